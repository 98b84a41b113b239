;;; lint.el --- byte-compile, checkdoc and package-lint caret.el  -*- lexical-binding: t; -*-

;;; Commentary:

;; Usage: emacs -Q --batch -l lint.el FILE OUT-DIR
;; Exits non-zero with the findings when any check has something to say.

;;; Code:

(require 'checkdoc)
(require 'bytecomp)

(defun lint-elpa-dir (package)
  "The directory of Debian's elpa PACKAGE to load, or nil when not installed.
Debian byte-compiles elpa packages for the system Emacs only; another
Emacs (say, Emacs 30 beside the system's 28) loads their sources."
  (let ((compiled (car (file-expand-wildcards
                        (format "/usr/share/emacs/site-lisp/elpa/%s-[0-9]*" package))))
        (source (car (file-expand-wildcards
                      (format "/usr/share/emacs/site-lisp/elpa-src/%s-[0-9]*" package)))))
    (if (and compiled
             (with-temp-buffer
               (let ((elc (expand-file-name (concat package ".elc") compiled)))
                 (when (file-exists-p elc)
                   (insert-file-contents elc nil 0 200)
                   (search-forward (format "in Emacs version %s\n" emacs-version) nil t)))))
        compiled
      (or source compiled))))

(let* ((file (expand-file-name (nth 0 command-line-args-left)))
       (out (file-name-as-directory (expand-file-name (nth 1 command-line-args-left))))
       (copy (expand-file-name (file-name-nondirectory file) out))
       (findings nil))
  (setq command-line-args-left nil)
  (copy-file file copy t)
  ;; Byte-compile: any warning is a finding.
  (let ((byte-compile-error-on-warn t)
        (load-path (cons out load-path)))
    (unless (byte-compile-file copy)
      (push "byte-compile: warnings or errors (see above)" findings)))
  ;; checkdoc: its warnings land in *Warnings*.
  (when (get-buffer "*Warnings*") (kill-buffer "*Warnings*"))
  (checkdoc-file copy)
  (when (get-buffer "*Warnings*")
    (push (concat "checkdoc:\n" (with-current-buffer "*Warnings*" (buffer-string))) findings))
  ;; package-lint, from Debian's elpa-package-lint.
  (let ((dir (lint-elpa-dir "package-lint")))
    (if (not dir)
        (push "package-lint is not installed: apt-get install elpa-package-lint" findings)
      (add-to-list 'load-path dir)
      (let ((extra (lint-elpa-dir "let-alist")))
        (when extra (add-to-list 'load-path extra)))
      (require 'package-lint)
      (with-current-buffer (find-file-noselect copy)
        (let ((package-lint-main-file copy))
          (dolist (issue (package-lint-buffer))
            ;; package-lint 0.16 (Debian 12) predates Emacs 28's release and calls any
            ;; (emacs "28.1") dependency uninstallable; newer versions do not.
            (unless (string-match-p "uninstallable in all released Emacs versions" (nth 3 issue))
              (push (format "package-lint: %s:%d:%d: %s: %s" (file-name-nondirectory copy)
                            (nth 0 issue) (nth 1 issue) (nth 2 issue) (nth 3 issue))
                    findings)))))))
  (if (null findings)
      (message "lint: clean")
    (message "lint findings:\n%s" (string-join (nreverse findings) "\n"))
    (kill-emacs 1)))

;;; lint.el ends here
