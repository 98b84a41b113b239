;;; caret-e2e-test.el --- caret.el against a real daemon  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by emacs.test.ts in batch Emacs, after it installed caret.el with
;; `package-install-file'.  `caret lsp' starts a real daemon (builtin
;; provider) in private XDG folders; the fixture project is in
;; $CARET_TEST_ROOT.  Keys go through the real keymaps with
;; `execute-kbd-macro', so the command loop and its hooks run.

;;; Code:

(require 'ert)
(require 'caret)

(defvar caret-e2e-root (file-name-as-directory (getenv "CARET_TEST_ROOT")))
(setq caret-command (list (getenv "CARET_TEST_NODE") (getenv "CARET_TEST_CLI") "lsp"))

(defun caret-e2e-wait (predicate what &optional seconds)
  "Wait up to SECONDS (default 15) for PREDICATE; fail naming WHAT."
  (let ((end (+ (float-time) (or seconds 15))) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) end))
      (accept-process-output nil 0.02))
    (or value (ert-fail (format "timed out waiting for %s" what)))))

(defun caret-e2e-open (relative)
  "Visit RELATIVE in the fixture, selected, in caret-mode, synced."
  (find-file (expand-file-name relative caret-e2e-root))
  (switch-to-buffer (current-buffer))
  (caret-mode 1)
  (caret-e2e-wait #'caret--live-p "the connection")
  (caret-e2e-wait (lambda () (eql caret--opened caret--generation)) "didOpen")
  (current-buffer))

(defun caret-e2e-daemon-text ()
  "The daemon's copy of the current buffer."
  (caret--flush-changes)
  (plist-get (jsonrpc-request caret--connection :caret/document/text
                              (list :textDocument (list :uri caret--uri)))
             :text))

(defun caret-e2e-revert ()
  "Throw away the edits of the current buffer."
  (let ((caret-auto-trigger nil))
    (revert-buffer t t t))
  (caret--clear-ghost)
  (caret--clear-next-edit))

(ert-deftest caret-e2e-sync-in-every-encoding ()
  (dolist (encodings '(("utf-32") ("utf-16") ("utf-8")))
    (let ((caret-position-encodings encodings)
          (caret-auto-trigger nil))
      (caret-restart)
      (caret-e2e-open "src/shapes.js")
      (should (equal caret--encoding (car encodings)))
      (goto-char (point-min))
      (insert "// 😀 héllo\n")
      (forward-line 1)
      (end-of-line)
      (insert " // 𝔘𝔫𝔦 x")
      (delete-char -2)
      (goto-char (point-max))
      (insert "export const π = 3.14159;\n")
      (transpose-lines 1)
      (upcase-region (point-min) (+ (point-min) 12))
      (should (equal (caret-e2e-daemon-text) (caret--buffer-text)))
      (caret-e2e-revert)
      (should (equal (caret-e2e-daemon-text) (caret--buffer-text))))))

(ert-deftest caret-e2e-ghost-text-accept ()
  (with-current-buffer (caret-e2e-open "src/totals.js")
    (unwind-protect
        (progn
          (goto-char (point-max))
          (execute-kbd-macro "export function sumAges(items) {\n  let c")
          (caret-e2e-wait (lambda () caret--ghost) "ghost text")
          (should (equal (caret--ghost-text caret--ghost) "ount = 0;"))
          (let ((id (caret--ghost-id caret--ghost)))
            (should (stringp id))
            (execute-kbd-macro (kbd "TAB"))
            (should (equal (buffer-substring (line-beginning-position) (line-end-position))
                           "  let count = 0;"))
            (should (= (point) (line-end-position)))
            (should (equal (caret-e2e-daemon-text) (caret--buffer-text)))))
      (caret-e2e-revert))))

(ert-deftest caret-e2e-ghost-text-word-accept-and-dismiss ()
  (with-current-buffer (caret-e2e-open "src/totals.js")
    (unwind-protect
        (progn
          (goto-char (point-max))
          (execute-kbd-macro "export function sumAges(items) {\n  let c")
          (caret-e2e-wait (lambda () caret--ghost) "ghost text")
          (execute-kbd-macro (kbd "M-f"))
          (should (equal (buffer-substring (line-beginning-position) (point)) "  let count"))
          (should (equal (caret--ghost-text caret--ghost) " = 0;"))
          (execute-kbd-macro (kbd "C-g"))
          (should (null caret--ghost))
          (should (equal (caret-e2e-daemon-text) (caret--buffer-text))))
      (caret-e2e-revert))))

(ert-deftest caret-e2e-next-edit-chain ()
  (with-current-buffer (caret-e2e-open "src/totals.js")
    (unwind-protect
        (let ((caret-auto-trigger nil))
          (goto-char (point-min))
          (search-forward "let count")
          (delete-char -5)
          (execute-kbd-macro "total")
          (caret-next-edit)
          (caret-e2e-wait (lambda () caret--next-edit) "a next-edit suggestion")
          ;; Walk the chain: each TAB jumps to the next site and applies it.
          (let ((steps 0))
            (while (and caret--next-edit (< steps 10))
              (execute-kbd-macro (kbd "TAB"))
              (setq steps (1+ steps))
              (caret-e2e-wait (lambda () (or caret--next-edit (> caret--next-edit-seq 0))) "the next link" 5)
              (let ((end (+ (float-time) 1)))
                (while (and (not caret--next-edit) (< (float-time) end)) (accept-process-output nil 0.02))))
            (should (>= steps 2)))
          (goto-char (point-min))
          (should (search-forward "for (const item of items) total += item.price;" nil t))
          (should (search-forward "return total;" nil t))
          (should (equal (caret-e2e-daemon-text) (caret--buffer-text))))
      (caret-e2e-revert))))

(ert-deftest caret-e2e-apply-sketch-and-accept-hunks ()
  (let ((source (caret-e2e-open "src/totals.js")))
    (unwind-protect
        (let* ((review (caret-apply (concat "// ... existing code ...\n"
                                            "export function sumWeights(items) {\n"
                                            "  let weight = 0;\n"
                                            "  for (const item of items) weight += item.weight;\n"
                                            "  return weight;\n"
                                            "}\n"))))
          (caret-e2e-wait (lambda () (with-current-buffer review
                                       (not (string-prefix-p "streaming" (plist-get caret--review :status)))))
                          "the apply result")
          (switch-to-buffer review)
          (should (> (length (caret--review-hunks)) 0))
          (execute-kbd-macro "A")
          (should (cl-every (lambda (r) (eq (plist-get r :status) 'accepted)) (caret--review-hunks)))
          (with-current-buffer source
            (should (string-match-p "export function sumWeights(items) {\n  let weight = 0;\n  for (const item of items) weight \\+= item.weight;\n  return weight;\n}"
                                    (caret--buffer-text)))
            ;; The first function is untouched.
            (should (string-prefix-p "export function sumPrices(items) {\n  let count = 0;" (caret--buffer-text)))
            (should (equal (caret-e2e-daemon-text) (caret--buffer-text))))
          (kill-buffer review))
      (with-current-buffer source (caret-e2e-revert)))))

;; The chain crossing files: a rename in totals.js is predicted, and
;; applied, at its uses in report.js, another open buffer.
(ert-deftest caret-e2e-next-edit-in-another-file ()
  (let* ((report (caret-e2e-open "src/report.js"))
         (report-uri (buffer-local-value 'caret--uri report))
         (totals (caret-e2e-open "src/totals.js")))
    (unwind-protect
        (let ((caret-auto-trigger nil))
          (goto-char (point-min))
          (search-forward "function sumPrices")
          (delete-char -6)
          (execute-kbd-macro "Costs")
          (caret-next-edit)
          (caret-e2e-wait (lambda () caret--next-edit) "a next edit in report.js")
          ;; Shown in the other buffer, and announced here with a fringe marker there.
          (should (cl-every (lambda (edit) (equal (plist-get (plist-get edit :textDocument) :uri) report-uri))
                            (caret--next-edit-edits caret--next-edit)))
          (should (cl-every (lambda (entry) (eq (car entry) report))
                            (caret--next-edit-overlays caret--next-edit)))
          (execute-kbd-macro (kbd "TAB"))
          ;; Accepting jumped to report.js and applied the edit there.
          (should (eq (current-buffer) report))
          (should (string-match-p "sumCosts" (caret--buffer-text)))
          ;; Walk the rest of the chain in report.js.
          (let ((end (+ (float-time) 5)))
            (while (and (string-match-p "sumPrices" (caret--buffer-text)) (< (float-time) end))
              (caret-e2e-wait (lambda () caret--next-edit) "the next link in report.js" 5)
              (execute-kbd-macro (kbd "TAB"))))
          (with-current-buffer report
            (should (equal (caret--buffer-text)
                           (concat "import { sumCosts } from './totals.js';\n\n"
                                   "export function invoiceTotal(cart) {\n"
                                   "  return sumCosts(cart.items);\n}\n")))
            (should (equal (caret-e2e-daemon-text) (caret--buffer-text))))
          (with-current-buffer totals
            (should (string-prefix-p "export function sumCosts(items) {\n  let count = 0;" (caret--buffer-text)))
            (should (equal (caret-e2e-daemon-text) (caret--buffer-text)))))
      (with-current-buffer report (caret-e2e-revert))
      (with-current-buffer totals (caret-e2e-revert)))))

;; The chain crossing into a file no buffer visits: renaming formatLabel
;; in label-a.js leaves its last use in label-b.js, which the workspace
;; index knows.  The daemon can only point there (a hint in the echo
;; area); TAB visits label-b.js at the use, and the chain goes on there
;; with the rename itself.
(ert-deftest caret-e2e-next-edit-jump-to-unopened-file ()
  (let* ((b-file (expand-file-name "src/label-b.js" caret-e2e-root))
         (a (caret-e2e-open "src/label-a.js"))
         (b nil))
    (should (null (get-file-buffer b-file)))
    (caret-e2e-wait (lambda ()
                      (let ((indexes (plist-get (jsonrpc-request caret--connection :caret/index/status nil) :indexes)))
                        (and (> (length indexes) 0)
                             (cl-every (lambda (i) (equal (plist-get i :state) "ready")) indexes))))
                    "the index to be ready" 30)
    (unwind-protect
        (let ((caret-auto-trigger nil))
          (goto-char (point-min))
          (search-forward "formatLabel")
          (delete-char -5)
          (execute-kbd-macro "Title")
          ;; Ask until the index has the use (it is small, but may still be indexing).
          (caret-e2e-wait (lambda ()
                            (or caret--next-edit
                                (progn (caret-next-edit)
                                       (let ((end (+ (float-time) 1)))
                                         (while (and (not caret--next-edit) (< (float-time) end))
                                           (accept-process-output nil 0.02)))
                                       caret--next-edit)))
                          "a jump to label-b.js" 30)
          (should (null (caret--next-edit-edits caret--next-edit)))
          (should (equal (plist-get (caret--next-edit-jump caret--next-edit) :uri) (caret--path-to-uri b-file)))
          (should (string-match-p "caret: → label-b\\.js:2\\b.*TAB opens it\n\\'"
                                  (with-current-buffer "*Messages*" (buffer-string))))
          (should (null (get-file-buffer b-file)))
          (execute-kbd-macro (kbd "TAB"))
          ;; label-b.js is visited, managed and synced, point at the use.
          (setq b (get-file-buffer b-file))
          (should (eq (current-buffer) b))
          (should caret-mode)
          (should (null (buffer-local-value 'caret--next-edit a)))
          (should (looking-at-p "formatLabel('b')"))
          (should (= (line-number-at-pos) 2))
          ;; Then the edit itself, in label-b.js with its version.  (No
          ;; synchronous request before it comes: Emacs 28's jsonrpc can
          ;; leave an async reply that arrives with a sync one unread.)
          (caret-e2e-wait (lambda () caret--next-edit) "the rename in label-b.js" 10)
          (should (equal (caret-e2e-daemon-text) (caret--buffer-text)))
          (should (cl-every (lambda (edit) (equal (plist-get (plist-get edit :textDocument) :uri) caret--uri))
                            (caret--next-edit-edits caret--next-edit)))
          (execute-kbd-macro (kbd "TAB"))
          (should (equal (caret--buffer-text) "// The other page.\nexport const other = formatTitle('b');\n"))
          (should (equal (caret-e2e-daemon-text) (caret--buffer-text)))
          (with-current-buffer a
            (should (equal (caret--buffer-text) "export const title = formatTitle('a');\nexport const size = 1;\n"))
            (should (equal (caret-e2e-daemon-text) (caret--buffer-text)))))
      (with-current-buffer a (caret-e2e-revert))
      ;; Leave label-b.js unvisited (and unsaved) for another run.
      (when (buffer-live-p b)
        (with-current-buffer b
          (set-buffer-modified-p nil)
          (kill-buffer))))))

;; A sketch from a buffer caret does not manage (a chat answer, say),
;; applied to totals.js while shapes.js is the buffer being edited:
;; the hunks are accepted one by one from the review buffer.
(ert-deftest caret-e2e-apply-to-another-buffer ()
  (let* ((totals (caret-e2e-open "src/totals.js"))
         (shapes (caret-e2e-open "src/shapes.js"))
         (shapes-text (with-current-buffer shapes (caret--buffer-text)))
         (sketch (get-buffer-create "*caret-e2e sketch*")))
    (unwind-protect
        (let ((review (with-current-buffer sketch
                        (insert "// ... existing code ...\n"
                                "export function sumWeights(items) {\n"
                                "  let total = 0;\n"
                                "  for (const item of items) total += item.weight;\n"
                                "  return total;\n"
                                "}\n")
                        (caret-apply-region (point-min) (point-max) totals))))
          (caret-e2e-wait (lambda () (with-current-buffer review
                                       (not (string-prefix-p "streaming" (plist-get caret--review :status)))))
                          "the apply result")
          (switch-to-buffer review)
          (should (string-prefix-p "caret apply to totals.js" (buffer-string)))
          (let ((hunks (length (caret--review-hunks))))
            (when (= hunks 0) (ert-fail (list "no hunks" (buffer-string))))
            (should (cl-every (lambda (r) (eq (plist-get r :buffer) totals)) (caret--review-hunks)))
            (goto-char (point-min))
            (caret-review-next-hunk)
            (dotimes (_ hunks) (execute-kbd-macro "a")))
          (should (cl-every (lambda (r) (eq (plist-get r :status) 'accepted)) (caret--review-hunks)))
          (should (eq (current-buffer) review))
          (with-current-buffer totals
            (should (string-suffix-p (concat "export function sumWeights(items) {\n  let total = 0;\n"
                                              "  for (const item of items) total += item.weight;\n  return total;\n}\n")
                                      (caret--buffer-text)))
            (should (string-prefix-p "export function sumPrices(items) {\n  let count = 0;" (caret--buffer-text)))
            (should (equal (caret-e2e-daemon-text) (caret--buffer-text))))
          ;; Neither the buffer being edited nor the sketch changed.
          (with-current-buffer shapes (should (equal (caret--buffer-text) shapes-text)))
          (with-current-buffer sketch (should (string-prefix-p "// ... existing code ...\nexport function sumWeights" (buffer-string))))
          (kill-buffer review))
      (kill-buffer sketch)
      (with-current-buffer totals (caret-e2e-revert)))))

;; caret/edit with a chat model (the test's local server in the OpenAI
;; format): the rewrite streams into the review buffer as hunks, and
;; accepting them changes the source buffer.
(ert-deftest caret-e2e-edit-region ()
  (let ((source (caret-e2e-open "src/totals.js"))
        (instruction (or (getenv "CARET_TEST_EDIT_INSTRUCTION") (ert-fail "CARET_TEST_EDIT_INSTRUCTION is not set"))))
    (unwind-protect
        (let* ((beg (progn (goto-char (point-min)) (search-forward "export function sumWeights") (line-beginning-position)))
               (review (progn (set-mark beg) (goto-char (point-max))
                              (caret-edit (region-beginning) (region-end) instruction))))
          (caret-e2e-wait (lambda () (with-current-buffer review
                                       (not (string-prefix-p "streaming" (plist-get caret--review :status)))))
                          "the edit result" 20)
          (switch-to-buffer review)
          (should (string-match-p "\\`[0-9]+ hunks?\\'" (plist-get caret--review :status)))
          ;; The hunks came as partial results while the request ran.
          (should (> (or (plist-get caret--review :streamed) 0) 0))
          (should (string-match-p "^-  let count = 0;$" (buffer-string)))
          (should (string-match-p "^\\+  let weight = 0;$" (buffer-string)))
          (should (string-match-p "^\\+  return weight;$" (buffer-string)))
          (execute-kbd-macro "A")
          (should (cl-every (lambda (r) (eq (plist-get r :status) 'accepted)) (caret--review-hunks)))
          (with-current-buffer source
            (should (string-suffix-p (concat "export function sumWeights(items) {\n  let weight = 0;\n"
                                              "  for (const item of items) weight += item.weight;\n  return weight;\n}\n")
                                      (caret--buffer-text)))
            (should (string-prefix-p "export function sumPrices(items) {\n  let count = 0;" (caret--buffer-text)))
            (should (equal (caret-e2e-daemon-text) (caret--buffer-text))))
          (kill-buffer review))
      (with-current-buffer source (caret-e2e-revert)))))

(ert-deftest caret-e2e-daemon-killed-mid-session ()
  (with-current-buffer (caret-e2e-open "src/totals.js")
    (unwind-protect
        (let ((pid (plist-get (jsonrpc-request caret--connection :caret/status nil) :pid)))
          (goto-char (point-max))
          (let ((caret-auto-trigger nil)) (execute-kbd-macro "// before\n"))
          (signal-process pid 'SIGKILL)
          (caret-e2e-wait (lambda () (eq caret--state 'restarting)) "the client to notice")
          (should (string-match-p "restarting" caret--lighter-text))
          ;; Keep working while the daemon is down; nothing is lost.
          (let ((caret-auto-trigger nil)) (execute-kbd-macro "// while down\n"))
          (caret-e2e-wait #'caret--live-p "the reconnection" 30)
          (caret-e2e-wait (lambda () (eql caret--opened caret--generation)) "the document to reopen")
          (should-not (equal pid (plist-get (jsonrpc-request caret--connection :caret/status nil) :pid)))
          (should (equal (caret-e2e-daemon-text) (caret--buffer-text)))
          ;; And ghost text works again.
          (execute-kbd-macro "export function sumAges(items) {\n  let c")
          (caret-e2e-wait (lambda () caret--ghost) "ghost text after the restart")
          (should (equal (caret--ghost-text caret--ghost) "ount = 0;")))
      (caret-e2e-revert))))

(ert-deftest caret-e2e-search-through-xref ()
  (with-current-buffer (caret-e2e-open "src/shapes.js")
    (caret-e2e-wait (lambda ()
                      (let ((indexes (plist-get (jsonrpc-request caret--connection :caret/index/status nil) :indexes)))
                        (and (> (length indexes) 0)
                             (cl-every (lambda (i) (equal (plist-get i :state) "ready")) indexes))))
                    "the index to be ready" 30)
    (caret--poll-index)
    (caret-e2e-wait (lambda () (equal caret--lighter-text " caret")) "the lighter to show a ready index")
    (let* ((xrefs (caret--search "sumWeights"))
           (location (xref-item-location (car xrefs))))
      (should xrefs)
      (should (equal (xref-file-location-file location) (expand-file-name "src/totals.js" caret-e2e-root)))
      (should (= (xref-file-location-line location) 7)))
    ;; M-. through the xref backend, in a buffer no language server manages.
    (should (eq (xref-find-backend) 'caret))
    (let ((definitions (xref-backend-definitions 'caret "areaOfRectangle")))
      (should (= (length definitions) 1))
      (should (= (xref-file-location-line (xref-item-location (car definitions))) 5)))))

(ert-deftest caret-e2e-doctor ()
  (caret-e2e-open "src/shapes.js")
  (let ((buffer (caret-doctor)))
    (with-current-buffer buffer
      (should (string-match-p "ok +connection: connected" (buffer-string)))
      (should (string-match-p "^Daemon:$" (buffer-string)))
      (should (string-match-p "^  ok +node: Node\\.js" (buffer-string))))))

(provide 'caret-e2e-test)
;;; caret-e2e-test.el ends here
