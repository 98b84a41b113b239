;;; bench.el --- keystroke-to-ghost-text timings in Emacs  -*- lexical-binding: t; -*-

;;; Commentary:

;; Loaded by test/bench/emacs.bench.ts after caret.el is installed.  For
;; each sample it types one key and waits for the ghost text, stamping:
;; the key (before the command runs), the moment the completion request
;; is handed to the pipe, the moment the process filter starts on the
;; reply, and the moment the ghost overlay is shown.  Writes
;; the timings as JSON to $CARET_BENCH_OUT.

;;; Code:

(require 'caret)

(setq caret-command (list (getenv "CARET_TEST_NODE") (getenv "CARET_TEST_CLI") "lsp"))
(setq caret-next-edit-enabled nil)

(defvar bench-sent nil)
(defvar bench-arrived nil)
(defvar bench-shown nil)

(advice-add 'jsonrpc-connection-send :after
            (lambda (&rest args)
              (when (eq (plist-get (cdr args) :method) :textDocument/inlineCompletion)
                (setq bench-sent (float-time)))))
(advice-add 'jsonrpc--process-filter :before
            (lambda (&rest _) (when (and bench-sent (not bench-shown)) (setq bench-arrived (float-time)))))
(add-hook 'caret-ghost-shown-functions (lambda (_text) (setq bench-shown (float-time))))

(let* ((samples (string-to-number (or (getenv "CARET_BENCH_SAMPLES") "200")))
       (root (file-name-as-directory (getenv "CARET_TEST_ROOT")))
       (keys nil) (rows nil) (missed 0))
  (find-file (expand-file-name "src/totals.js" root))
  (switch-to-buffer (current-buffer))
  (caret-mode 1)
  (with-timeout (30 (error "No connection"))
    (while (not (caret--live-p)) (accept-process-output nil 0.02)))
  (dotimes (i (+ samples 10))
    (let ((caret-auto-trigger nil))
      (goto-char (point-max))
      (insert (format "\nexport function sumAges%d(items) {\n  let " i)))
    (caret--flush-changes)
    (setq bench-sent nil bench-arrived nil bench-shown nil)
    (let ((key (float-time)) (gcs gcs-done))
      (execute-kbd-macro "c")
      (let ((end (+ (float-time) 5)))
        (while (and (not bench-shown) (< (float-time) end)) (accept-process-output nil 0.0005)))
      (if (not bench-shown)
          (setq missed (1+ missed))
        (when (>= i 10)                 ; the first ten warm up
          (push (list (- bench-sent key) (- bench-arrived bench-sent) (- bench-shown bench-arrived)
                      (- bench-shown key) (if (= gcs gcs-done) 0 1))
                rows))))
    (caret--clear-ghost)
    (setq keys (cons i keys)))
  (with-temp-file (getenv "CARET_BENCH_OUT")
    (insert (json-serialize
                  (list :missed missed
                        :before (vconcat (mapcar (lambda (r) (* 1000 (nth 0 r))) rows))
                        :roundTrip (vconcat (mapcar (lambda (r) (* 1000 (nth 1 r))) rows))
                        :after (vconcat (mapcar (lambda (r) (* 1000 (nth 2 r))) rows))
                        :gc (vconcat (mapcar (lambda (r) (nth 4 r)) rows))
                        :total (vconcat (mapcar (lambda (r) (* 1000 (nth 3 r))) rows))))))
  (set-buffer-modified-p nil)
  (caret-shutdown))

;;; bench.el ends here
