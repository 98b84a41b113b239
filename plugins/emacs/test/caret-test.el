;;; caret-test.el --- ERT unit tests for caret.el  -*- lexical-binding: t; -*-

;;; Commentary:

;; Unit tests of caret.el's logic.  Pure functions are tested directly;
;; the client flows (ghost text, next edit, apply review, search) run
;; against a recorded daemon: a `jsonrpc-connection' whose replies are
;; protocol responses in the shapes the method table defines, delivered
;; through jsonrpc.el's own receive path.  The real daemon is exercised
;; by test/e2e/emacs.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'caret)

;;;; A recorded daemon

(defclass caret-test-connection (jsonrpc-connection)
  ((handler :initarg :handler :documentation "Function (METHOD PARAMS) -> result.")
   (sent :initform nil :documentation "Messages sent by the client, newest first."))
  "A jsonrpc connection answering from recorded responses.")

(cl-defmethod jsonrpc-connection-send ((conn caret-test-connection) &rest args
                                       &key id method params &allow-other-keys)
  "Record ARGS; answer a request (ID METHOD PARAMS) from CONN's handler."
  (let ((name (if (keywordp method) (substring (symbol-name method) 1) (format "%s" method))))
    (push (list :id id :method name :params params) (oref conn sent))
    (when (and id method)
      (let ((result (funcall (oref conn handler) name params)))
        (run-at-time 0 nil (lambda ()
                             (jsonrpc-connection-receive
                              conn (if (eq (car-safe result) :error)
                                       (list :jsonrpc "2.0" :id id :error (cadr result))
                                     (list :jsonrpc "2.0" :id id :result result)))))))))

(cl-defmethod jsonrpc-running-p ((_conn caret-test-connection)) t)

(defvar caret-test--connection nil)
(defvar eglot--managed-mode)

(defun caret-test--methods ()
  "Every method the recorded daemon serves."
  ["textDocument/inlineCompletion" "caret/inlineCompletion/didShow"
   "caret/inlineCompletion/didPartiallyAccept" "caret/inlineCompletion/didReject"
   "workspace/executeCommand" "caret/nextEdit" "caret/nextEdit/didAccept"
   "caret/nextEdit/didReject" "caret/apply" "caret/edit" "caret/search" "caret/index/status"])

(defmacro caret-test-with-daemon (handler &rest body)
  "Run BODY with caret connected to a recorded daemon answering with HANDLER."
  (declare (indent 1))
  `(let* ((caret-test--connection
           (make-instance 'caret-test-connection :name "caret-test" :handler ,handler
                          :events-buffer-scrollback-size 0))
          (caret--connection caret-test--connection)
          (caret--state 'ready)
          (caret--generation 1)
          (caret--roots nil)
          (caret--encoding "utf-32")
          (caret-next-edit-delay 0.01)
          (caret--capabilities (list :experimental (list :caret (list :methods (caret-test--methods))))))
     (unwind-protect (progn ,@body)
       (caret--cancel-next-edit-timer))))

(defun caret-test--sent (method)
  "Params of the messages sent for METHOD, oldest first."
  (mapcar (lambda (m) (plist-get m :params))
          (cl-remove-if-not (lambda (m) (equal (plist-get m :method) method))
                            (reverse (oref caret-test--connection sent)))))

(defun caret-test--settle (&optional seconds)
  "Let timers and replies run for SECONDS (default a little)."
  (let ((end (+ (float-time) (or seconds 0.05))))
    (while (< (float-time) end) (accept-process-output nil 0.01))))

(defmacro caret-test-with-buffer (text &rest body)
  "Run BODY in a caret-mode buffer holding TEXT, point at its end."
  (declare (indent 1))
  `(let ((dir (make-temp-file "caret-test" t)))
     (unwind-protect
         (with-current-buffer (find-file-noselect (expand-file-name "a.js" dir))
           (switch-to-buffer (current-buffer))
           (insert ,text)
           (caret-mode 1)
           (unwind-protect (progn ,@body)
             (set-buffer-modified-p nil)
             (kill-buffer)))
       (delete-directory dir t))))

;;;; Pure helpers

(ert-deftest caret-test-units ()
  (let ((s "aé😀b"))
    (should (= (caret--string-units s "utf-32") 4))
    (should (= (caret--string-units s "utf-16") 5))
    (should (= (caret--string-units s "utf-8") 8))
    (should (= (caret--units-to-chars s 3 "utf-16") 2))   ; inside the emoji: clamped before it
    (should (= (caret--units-to-chars s 4 "utf-16") 3))
    (should (= (caret--units-to-chars s 3 "utf-8") 2))
    (should (= (caret--units-to-chars s 7 "utf-8") 3))
    (should (= (caret--units-to-chars s 99 "utf-8") 4))
    (should (= (caret--units-to-chars s 99 "utf-32") 4))))

(ert-deftest caret-test-uris ()
  (should (equal (caret--path-to-uri "/tmp/a b/ü.js") "file:///tmp/a%20b/%C3%BC.js"))
  (should (equal (caret--uri-to-path "file:///tmp/a%20b/%C3%BC.js") "/tmp/a b/ü.js"))
  (should (equal (caret--uri-to-path "file://localhost/x/y") "/x/y"))
  (should (null (caret--uri-to-path "untitled:foo")))
  (dolist (path '("/tmp/x#y.ts" "/srv/%25/ä 😀.py" "/a/b:c@d"))
    (should (equal (caret--uri-to-path (caret--path-to-uri path)) path))))

(ert-deftest caret-test-language-ids ()
  (should (equal (caret--language-id 'python-mode) "python"))
  (should (equal (caret--language-id 'python-ts-mode) "python"))
  (should (equal (caret--language-id 'c++-mode) "cpp"))
  (should (equal (caret--language-id 'js-mode) "javascript"))
  (should (equal (caret--language-id 'tsx-ts-mode) "typescriptreact"))
  (should (equal (caret--language-id 'sh-mode) "shellscript"))
  (should (equal (caret--language-id 'fennel-mode) "fennel")))

(ert-deftest caret-test-snippets ()
  (should (equal (caret--snippet-text "foo(${1:a}, ${2:b})$0") "foo(a, b)"))
  (should (equal (caret--snippet-text "x${1:outer ${2:inner}}y") "xouter innery"))
  (should (equal (caret--snippet-text "cost \\$5 $1") "cost $5 "))
  (should (equal (caret--item-text '(:insertText (:kind "snippet" :value "f(${1:x})"))) "f(x)"))
  (should (equal (caret--item-text '(:insertText "plain")) "plain")))

(ert-deftest caret-test-ghost-layout ()
  ;; Plain continuation at point.
  (should (equal (caret--ghost-layout "return a + b;" "ret" "") '(:text "urn a + b;" :replace-tail nil)))
  ;; The item ends with the text after point: that text stays, ghost goes before it.
  (should (equal (caret--ghost-layout "foo(bar, baz)" "foo(" ")") '(:text "bar, baz" :replace-tail nil)))
  ;; The item rewrites the tail: accepting replaces it.
  (should (equal (caret--ghost-layout "foo(x);" "foo(" "y)") '(:text "x);" :replace-tail t)))
  ;; An item that does not extend what was typed is not shown.
  (should (null (caret--ghost-layout "bar" "foo" ""))))

(ert-deftest caret-test-word-and-line-lengths ()
  (should (= (caret--next-word-length "foo bar") 3))
  (should (= (caret--next-word-length "  foo bar") 5))
  (should (= (caret--next-word-length "(a, b)") 1))
  (should (= (caret--next-word-length "snake_case1 x") 11))
  (should (= (caret--next-word-length "\nfoo") 1))
  (should (= (caret--next-line-length "a + b;\n  return") 7))
  (should (= (caret--next-line-length "\n  return x;\n}") 13))
  (should (= (caret--next-line-length "tail") 4)))

(ert-deftest caret-test-index-summary ()
  (should (null (caret--index-summary '(:state "ready"))))
  (should (equal (caret--index-summary '(:state "indexing" :progress (:done 25 :total 100))) "[25%]"))
  (should (equal (caret--index-summary '(:state "scanning")) "[indexing]"))
  (should (equal (caret--index-summary '(:indexes [(:state "ready") (:state "error")])) "!"))
  (should (null (caret--index-summary '(:indexes []))))
  (should (equal (caret--index-summary
                  '(:indexes [(:state "indexing" :progress (:done 1 :total 4)) (:state "ready")]))
                 "[25%]")))

(ert-deftest caret-test-diff-lines ()
  (should (equal (caret--diff-lines "-" "a\nb\n") "-a\n-b\n"))
  (should (equal (caret--diff-lines "+" "a") "+a\n"))
  (should (equal (caret--diff-lines "+" "") "")))

;;;; Positions in a buffer

(ert-deftest caret-test-positions-round-trip ()
  (with-temp-buffer
    (insert "héllo 😀 world\nsecond 😀😀 line\n\nlast")
    (dolist (encoding '("utf-8" "utf-16" "utf-32"))
      (let ((caret--encoding encoding))
        (dotimes (i (buffer-size))
          (let ((pos (1+ i)))
            (should (= (caret--position-point (caret--lsp-position pos)) pos))))
        ;; Past the end of a line or of the buffer: clamped.
        (should (= (caret--position-point '(:line 0 :character 999)) 14))
        (should (= (caret--position-point '(:line 99 :character 0)) (point-max)))))
    (let ((caret--encoding "utf-16"))
      (should (equal (caret--lsp-position 9) '(:line 0 :character 9))))
    (let ((caret--encoding "utf-8"))
      (should (equal (caret--lsp-position 9) '(:line 0 :character 12))))))

;;;; Incremental sync

(defun caret-test--apply-changes (text changes encoding)
  "TEXT after the LSP content CHANGES (positions in ENCODING)."
  (with-temp-buffer
    (insert text)
    (let ((caret--encoding encoding))
      (seq-doseq (change changes)
        (if (plist-member change :range)
            (let ((region (caret--range-region (plist-get change :range))))
              (goto-char (car region))
              (delete-region (car region) (cdr region))
              (insert (plist-get change :text)))
          (erase-buffer)
          (insert (plist-get change :text)))))
    (buffer-string)))

(ert-deftest caret-test-incremental-sync-matches-buffer ()
  (dolist (encoding '("utf-8" "utf-16" "utf-32"))
    (caret-test-with-daemon (lambda (_method _params) nil)
      (let ((caret--encoding encoding)
            (caret-auto-trigger nil)
            (state (random "caret-sync")))
        (ignore state)
        (caret-test-with-buffer "function add(a, b) {\n  return a + b; // 😀\n}\n"
          (let ((daemon-text (plist-get (plist-get (car (caret-test--sent "textDocument/didOpen")) :textDocument) :text)))
            (dotimes (_ 300)
              (let* ((beg (1+ (random (buffer-size))))
                     (end (min (point-max) (+ beg (random 6)))))
                (pcase (random 5)
                  (0 (goto-char beg) (insert (nth (random 4) '("x" "é" "😀\n" "\n\n"))))
                  (1 (delete-region beg end))
                  (2 (goto-char beg) (delete-region beg end) (insert "ab😀"))
                  (3 (subst-char-in-region beg end ?a ?b))
                  (4 (upcase-region beg end))))
              (when (zerop (random 7)) (caret--flush-changes)))
            (caret--flush-changes)
            (dolist (change (caret-test--sent "textDocument/didChange"))
              (setq daemon-text (caret-test--apply-changes daemon-text (plist-get change :contentChanges)
                                                           encoding)))
            (should (equal daemon-text (caret--buffer-text)))
            ;; Versions only grow.
            (let ((versions (mapcar (lambda (p) (plist-get (plist-get p :textDocument) :version))
                                    (caret-test--sent "textDocument/didChange"))))
              (should (equal versions (sort (copy-sequence versions) #'<))))))))))

;;;; Ghost text

(defun caret-test--completion-handler (items &optional log)
  "A handler answering inline completion with ITEMS; push other calls onto LOG."
  (lambda (method params)
    (when log (set log (cons (cons method params) (symbol-value log))))
    (pcase method
      ("textDocument/inlineCompletion" (list :items items))
      (_ nil))))

(defun caret-test--item (text id &optional range)
  "An inline completion item inserting TEXT, with accept command for ID."
  (append (list :insertText text
                :command (list :title "Accept" :command "caret.inlineCompletion.accept" :arguments (vector id)))
          (and range (list :range range))))

(defun caret-test--ghost-text ()
  "The ghost text shown, or nil."
  (and caret--ghost
       (substring-no-properties (overlay-get (caret--ghost-overlay caret--ghost) 'after-string))))

(ert-deftest caret-test-ghost-shows-and-accepts ()
  (caret-test-with-daemon (caret-test--completion-handler (vector (caret-test--item "  return a + b;\n}" "c1" '(:start (:line 1 :character 0) :end (:line 1 :character 1)))))
    (caret-test-with-buffer "function add(a, b) {\n"
      (execute-kbd-macro " ")
      (caret-test--settle)
      (should (equal (caret-test--ghost-text) " return a + b;\n}"))
      (should (equal (caret-test--sent "caret/inlineCompletion/didShow") '((:id "c1"))))
      ;; The request named the position after the typed space.
      (should (equal (plist-get (car (last (caret-test--sent "textDocument/inlineCompletion"))) :position)
                     '(:line 1 :character 1)))
      (execute-kbd-macro (kbd "TAB"))
      (should (equal (buffer-string) "function add(a, b) {\n  return a + b;\n}"))
      (should (null caret--ghost))
      (should (equal (caret-test--sent "workspace/executeCommand")
                     '((:command "caret.inlineCompletion.accept" :arguments ["c1"])))))))

(ert-deftest caret-test-ghost-partial-accept ()
  (caret-test-with-daemon (caret-test--completion-handler (vector (caret-test--item "const total = sum(a, b);\nreturn total;" "c2" '(:start (:line 0 :character 0) :end (:line 0 :character 2)))))
    (caret-test-with-buffer ""
      (execute-kbd-macro "co")
      (caret-test--settle)
      (should (equal (caret-test--ghost-text) "nst total = sum(a, b);\nreturn total;"))
      (execute-kbd-macro (kbd "M-f"))
      (should (equal (buffer-string) "const"))
      (should (equal (caret-test--ghost-text) " total = sum(a, b);\nreturn total;"))
      (should (equal (car (last (caret-test--sent "caret/inlineCompletion/didPartiallyAccept")))
                     '(:id "c2" :acceptedLength 5)))
      (execute-kbd-macro (kbd "M-e"))
      (should (equal (buffer-string) "const total = sum(a, b);\n"))
      (should (equal (car (last (caret-test--sent "caret/inlineCompletion/didPartiallyAccept")))
                     '(:id "c2" :acceptedLength 25)))
      (execute-kbd-macro (kbd "M-e"))
      (should (equal (buffer-string) "const total = sum(a, b);\nreturn total;"))
      (should (null caret--ghost))
      (should (= (length (caret-test--sent "workspace/executeCommand")) 1)))))

(ert-deftest caret-test-ghost-typing-through-and-reject ()
  (caret-test-with-daemon (caret-test--completion-handler (vector (caret-test--item "hello world" "c3" '(:start (:line 0 :character 0) :end (:line 0 :character 1)))))
    (caret-test-with-buffer ""
      (execute-kbd-macro "h")
      (caret-test--settle)
      (should (equal (caret-test--ghost-text) "ello world"))
      (let ((requests (length (caret-test--sent "textDocument/inlineCompletion"))))
        ;; Typing what the ghost predicted shrinks it without a round trip.
        (execute-kbd-macro "el")
        (should (equal (caret-test--ghost-text) "lo world"))
        (should (= (length (caret-test--sent "textDocument/inlineCompletion")) requests))
        (should (null (caret-test--sent "caret/inlineCompletion/didReject")))
        ;; Typing something else rejects it and asks again.
        (execute-kbd-macro "X")
        (should (equal (caret-test--sent "caret/inlineCompletion/didReject") '((:id "c3"))))
        (should (= (length (caret-test--sent "textDocument/inlineCompletion")) (1+ requests)))))))

(ert-deftest caret-test-ghost-dismiss-and-move ()
  (caret-test-with-daemon (caret-test--completion-handler (vector (caret-test--item "abc" "c4")))
    (caret-test-with-buffer "x\n"
      (execute-kbd-macro "a")
      (caret-test--settle)
      (should caret--ghost)
      (execute-kbd-macro (kbd "C-g"))
      (should (null caret--ghost))
      (should (equal (caret-test--sent "caret/inlineCompletion/didReject") '((:id "c4"))))
      (should (equal (buffer-string) "x\na"))
      ;; Moving away rejects too.
      (caret-complete)
      (caret-test--settle)
      (should caret--ghost)
      (execute-kbd-macro (kbd "C-a"))
      (should (null caret--ghost))
      (should (= (length (caret-test--sent "caret/inlineCompletion/didReject")) 2)))))

(ert-deftest caret-test-ghost-cycle ()
  (caret-test-with-daemon (caret-test--completion-handler
                           (let ((range '(:start (:line 0 :character 0) :end (:line 0 :character 1))))
                             (vector (caret-test--item "first" "a" range) (caret-test--item "fxx" "b" range)
                                     (caret-test--item "second" "c" range))))
    (caret-test-with-buffer ""
      (execute-kbd-macro "f")
      (caret-test--settle)
      (should (equal (caret-test--ghost-text) "irst"))
      (execute-kbd-macro (kbd "M-n"))
      (should (equal (caret-test--ghost-text) "xx"))
      (execute-kbd-macro (kbd "M-p"))
      (should (equal (caret-test--ghost-text) "irst"))
      (execute-kbd-macro (kbd "M-p"))
      ;; "second" does not extend "f", so cycling backwards skips it to "fxx".
      (should (equal (caret-test--ghost-text) "xx"))
      (execute-kbd-macro (kbd "TAB"))
      (should (equal (buffer-string) "fxx"))
      (should (equal (caret-test--sent "workspace/executeCommand")
                     '((:command "caret.inlineCompletion.accept" :arguments ["b"])))))))

(ert-deftest caret-test-ghost-range-replaces-tail ()
  (caret-test-with-daemon
      (caret-test--completion-handler
       (vector (caret-test--item "print(x);" "r1" '(:start (:line 0 :character 0) :end (:line 0 :character 8)))))
    (caret-test-with-buffer "print(y)"
      (goto-char 7)
      (caret-complete)
      (caret-test--settle)
      (should (equal (caret-test--ghost-text) "x);"))
      (caret-accept)
      (should (equal (buffer-string) "print(x);")))))

(ert-deftest caret-test-stale-completion-dropped ()
  (caret-test-with-daemon (caret-test--completion-handler (vector (caret-test--item "abc" "s1")))
    (caret-test-with-buffer ""
      (caret-complete)
      ;; The user types before the answer arrives.
      (let ((caret-auto-trigger nil)) (insert "q"))
      (caret-test--settle)
      (should (null caret--ghost)))))

(ert-deftest caret-test-keymaps-stay-inside-caret-mode ()
  (should (null (lookup-key global-map (kbd "C-c ^"))))
  (with-temp-buffer
    (should (eq (key-binding (kbd "TAB")) 'indent-for-tab-command)))
  (caret-test-with-daemon (lambda (_m _p) nil)
    (caret-test-with-buffer ""
      (should (eq (key-binding (kbd "C-c ^ s")) 'caret-search))
      ;; TAB is caret's only while a suggestion is shown.
      (should (not (eq (key-binding (kbd "TAB")) 'caret-accept))))))

;;;; Next edit

(defun caret-test--next-edit-handler (suggestion-fn)
  "A handler answering `caret/nextEdit' with SUGGESTION-FN's value, no completions."
  (lambda (method params)
    (pcase method
      ("caret/nextEdit" (funcall suggestion-fn params))
      ("textDocument/inlineCompletion" (list :items []))
      (_ nil))))

(ert-deftest caret-test-next-edit-chain ()
  (let ((calls 0))
    (caret-test-with-daemon
        (caret-test--next-edit-handler
         (lambda (params)
           (let ((version (plist-get (plist-get params :textDocument) :version))
                 (uri (plist-get (plist-get params :textDocument) :uri)))
             (setq calls (1+ calls))
             (pcase calls
               ((or 1 2) (list :id (format "n%d" calls)
                               :edits (vector (list :textDocument (list :uri uri :version version)
                                                    :range (list :start (list :line calls :character 4)
                                                                 :end (list :line calls :character 9))
                                                    :newText "total"))))
               (_ nil)))))
      (caret-test-with-buffer "let count = 0;\nuse(count);\nlog(count);\n"
        (goto-char (point-min))
        (caret-next-edit)
        (caret-test--settle)
        (should caret--next-edit)
        (let ((overlay (cdar (caret--next-edit-overlays caret--next-edit))))
          (should (equal (buffer-substring (overlay-start overlay) (overlay-end overlay)) "count"))
          (should (equal (substring-no-properties (overlay-get overlay 'after-string)) "total")))
        (execute-kbd-macro (kbd "TAB"))
        (should (equal (buffer-string) "let count = 0;\nuse(total);\nlog(count);\n"))
        (should (equal (caret-test--sent "caret/nextEdit/didAccept") '((:id "n1"))))
        ;; Accepting asked for the next link of the chain.
        (caret-test--settle)
        (should (equal (caret--next-edit-id caret--next-edit) "n2"))
        (execute-kbd-macro (kbd "TAB"))
        (should (equal (buffer-string) "let count = 0;\nuse(total);\nlog(total);\n"))
        (caret-test--settle)
        (should (null caret--next-edit))
        (should (= calls 3))))))

(ert-deftest caret-test-next-edit-far-gets-fringe-and-stale-dropped ()
  (let ((stale nil))
    (caret-test-with-daemon
        (caret-test--next-edit-handler
         (lambda (params)
           (let ((doc (plist-get params :textDocument)))
             (list :id "far" :reason "rename"
                   :edits (vector (list :textDocument (list :uri (plist-get doc :uri)
                                                            :version (- (plist-get doc :version) (if stale 1 0)))
                                        :range '(:start (:line 40 :character 0) :end (:line 40 :character 1))
                                        :newText "Y"))))))
      (caret-test-with-buffer (apply #'concat (make-list 50 "x\n"))
        (goto-char (point-min))
        (caret-next-edit)
        (caret-test--settle)
        (let ((overlay (cdar (caret--next-edit-overlays caret--next-edit))))
          (should (overlay-get overlay 'before-string))
          (should (equal (get-text-property 0 'display (overlay-get overlay 'before-string))
                         '(left-fringe right-arrow caret-next-edit-fringe-face))))
        (caret-next-edit-jump)
        (should (= (line-number-at-pos) 41))
        (execute-kbd-macro (kbd "C-g"))
        (should (null caret--next-edit))
        (should (equal (caret-test--sent "caret/nextEdit/didReject") '((:id "far"))))
        ;; A suggestion for an older version is never shown.
        (setq stale t)
        (caret-next-edit)
        (caret-test--settle)
        (should (null caret--next-edit))))))

;; The site is in b.js, which no buffer visits: the daemon can only
;; point there.  Accepting opens b.js at the site (a utf-16 position,
;; after an astral character), says so, and asks again from b.js, where
;; the edit now comes with b.js's version.
(ert-deftest caret-test-next-edit-jump-to-unopened-file ()
  (let* ((calls 0)
         (dir (make-temp-file "caret-test" t))
         (b-file (expand-file-name "b.js" dir))
         (b-uri (caret--path-to-uri b-file)))
    (with-temp-file b-file (insert "// b\nlog('😀', formatLabel('b'));\n"))
    (unwind-protect
        (caret-test-with-daemon
            (caret-test--next-edit-handler
             (lambda (params)
               (let ((doc (plist-get params :textDocument)))
                 (setq calls (1+ calls))
                 (pcase calls
                   (1 (list :id "j1" :reason "rename formatLabel → formatTitle" :edits []
                            :jump (list :uri b-uri :position '(:line 1 :character 10))))
                   (2 (list :id "e2"
                            :edits (vector (list :textDocument (list :uri (plist-get doc :uri)
                                                                     :version (plist-get doc :version))
                                                 :range '(:start (:line 1 :character 10) :end (:line 1 :character 21))
                                                 :newText "formatTitle"))))
                   (_ nil)))))
          (let ((caret--encoding "utf-16"))
            (caret-test-with-buffer "const title = formatTitle('a');\n"
              (let ((a (current-buffer)))
                (caret-next-edit)
                (caret-test--settle)
                ;; Shown as a hint only, with the accept key bound.
                (should caret--next-edit)
                (should (null (caret--next-edit-overlays caret--next-edit)))
                (should (eq (key-binding (kbd "TAB")) 'caret-next-edit-accept))
                (should (string-match-p "caret: → b\\.js:2 (rename formatLabel → formatTitle), TAB opens it\n\\'"
                                        (with-current-buffer "*Messages*" (buffer-string))))
                (should (null (get-file-buffer b-file)))
                (execute-kbd-macro (kbd "TAB"))
                ;; b.js is visited, in caret-mode, opened in the daemon, point at the site.
                (should (equal buffer-file-name b-file))
                (unwind-protect
                    (progn
                      (should caret-mode)
                      (should (null (buffer-local-value 'caret--next-edit a)))
                      (should (equal (buffer-substring (point) (+ (point) 11)) "formatLabel"))
                      (should (equal (caret-test--sent "caret/nextEdit/didAccept") '((:id "j1"))))
                      (should (equal (mapcar (lambda (p) (plist-get (plist-get p :textDocument) :uri))
                                             (caret-test--sent "textDocument/didOpen"))
                                     (list (buffer-local-value 'caret--uri a) b-uri)))
                      ;; The next request came from b.js, after its didOpen.
                      (let ((asked (caret-test--sent "caret/nextEdit")))
                        (should (= (length asked) 2))
                        (should (equal (plist-get (plist-get (nth 1 asked) :textDocument) :uri) b-uri))
                        (should (equal (plist-get (nth 1 asked) :position) '(:line 1 :character 10))))
                      (let ((methods (mapcar (lambda (m) (plist-get m :method))
                                             (reverse (oref caret-test--connection sent)))))
                        (should (< (cl-position "textDocument/didOpen" methods :test #'equal :from-end t)
                                   (cl-position "caret/nextEdit" methods :test #'equal :from-end t))))
                      (caret-test--settle)
                      (should (equal (caret--next-edit-id caret--next-edit) "e2"))
                      (execute-kbd-macro (kbd "TAB"))
                      (should (equal (buffer-string) "// b\nlog('😀', formatTitle('b'));\n"))
                      (should (equal (caret-test--sent "caret/nextEdit/didAccept") '((:id "j1") (:id "e2")))))
                  (set-buffer-modified-p nil)
                  (kill-buffer))))))
      (delete-directory dir t))))

(ert-deftest caret-test-next-edit-jump-only-dismissed ()
  (caret-test-with-daemon
      (caret-test--next-edit-handler
       (lambda (_params)
         (list :id "j1" :edits [] :jump '(:uri "file:///nowhere/b.js" :position (:line 0 :character 0)))))
    (caret-test-with-buffer "x\n"
      (caret-next-edit)
      (caret-test--settle)
      (should caret--next-edit)
      ;; A file that is gone is not visited; the suggestion stays until dismissed.
      (should-error (caret-next-edit-jump) :type 'user-error)
      (should (eq (current-buffer) (get-file-buffer (expand-file-name "a.js"))))
      (should caret--next-edit)
      (execute-kbd-macro (kbd "C-g"))
      (should (null caret--next-edit))
      (should (equal (caret-test--sent "caret/nextEdit/didReject") '((:id "j1")))))))

;;;; Apply review

(defun caret-test--hunk (uri order line old new &optional importance)
  "A protocol hunk in URI replacing OLD with NEW at LINE."
  (let ((old-lines (length (split-string (string-remove-suffix "\n" old) "\n"))))
    (list :uri uri :order order :importance (or importance "normal") :reasons []
          :oldRange (list :start (list :line line :character 0) :end (list :line (+ line old-lines) :character 0))
          :newRange (list :start (list :line line :character 0) :end (list :line (+ line old-lines) :character 0))
          :oldText old :newText new
          :words (vector (list :kind "insert" :range (list :start (list :line line :character 0)
                                                            :end (list :line line :character 3))
                               :text "new")))))

(ert-deftest caret-test-apply-review ()
  (let (apply-params)
    (caret-test-with-buffer "a\nb\nc\nd\n"
      (let* ((uri caret--uri)
             (hunks (vector (caret-test--hunk uri 0 0 "a\n" "new a\n")
                            (caret-test--hunk uri 1 2 "c\n" "  c\n" "low")))
             (source (current-buffer)))
        (caret-test-with-daemon
            (lambda (method params)
              (when (equal method "caret/apply")
                (setq apply-params params)
                ;; Stream the first hunk before answering.
                (caret--handle-notification nil '$/progress
                                            (list :token (plist-get params :partialResultToken)
                                                  :value (vector (aref hunks 0))))
                (list :edit '(:documentChanges []) :hunks hunks
                      :unresolved (vector (list :uri uri :kind "unanchored" :message "no anchor for this part"
                                                :sketchText "zzz\n"
                                                :nearest (vector '(:range (:start (:line 3 :character 0) :end (:line 4 :character 0))
                                                                          :text "d\n" :similarity 0.5))))
                      :stats '(:files 1 :hunks 2 :linesAdded 2 :linesRemoved 2 :unresolved 1
                                      :strategy "merge" :durationMs 1))))
          (caret-mode 1)
          (let ((review (caret-apply "new a\n// ... existing code ...\n  c\n")))
            (caret-test--settle)
            (should (equal (plist-get (aref (plist-get apply-params :files) 0) :sketch)
                           "new a\n// ... existing code ...\n  c\n"))
            (switch-to-buffer review)
            (progn
              (should (= (length (caret--review-hunks)) 2))
              ;; One hunk came as a partial result, the other only in the answer.
              (should (= (plist-get caret--review :streamed) 1))
              (should (string-match-p "\\`caret apply to .* — 2 hunks, some unresolved\n" (buffer-string)))
              (should (string-match-p "unanchored" (buffer-string)))
              (should (string-match-p "nearest lines (line 4, 50% alike)" (buffer-string)))
              ;; The low-importance hunk is dimmed.
              (caret--review-goto 1)
              (forward-line 1)
              (should (memq 'caret-review-dimmed-face (ensure-list (get-text-property (point) 'face))))
              (caret--review-goto 0)
              (forward-line 2)
              (should (memq 'diff-refine-added (ensure-list (get-text-property (1+ (point)) 'face))))
              (caret--review-goto 0)
              (execute-kbd-macro "a")
              (should (equal (with-current-buffer source (buffer-string)) "new a\nb\nc\nd\n"))
              (should (eq (plist-get (nth 0 (caret--review-hunks)) :status) 'accepted))
              ;; Point moved to the next hunk; reject it.
              (execute-kbd-macro "r")
              (should (equal (with-current-buffer source (buffer-string)) "new a\nb\nc\nd\n"))
              (should (eq (plist-get (nth 1 (caret--review-hunks)) :status) 'rejected))
              ;; Undo the accepted one.
              (caret--review-goto 0)
              (execute-kbd-macro "u")
              (should (equal (with-current-buffer source (buffer-string)) "a\nb\nc\nd\n"))
              ;; A hunk whose text changed underneath is refused, not forced.
              (with-current-buffer source (goto-char (point-min)) (insert "Z"))
              (should-error (caret-review-accept-hunk) :type 'user-error)
              (should (equal (with-current-buffer source (buffer-string)) "Za\nb\nc\nd\n"))
              (kill-buffer))))))))

;;;; Edit by instruction

(ert-deftest caret-test-edit-region-sends-range-and-instruction ()
  (let (edit-params)
    (caret-test-with-buffer "one\ntwo\nthree\n"
      (let ((uri caret--uri))
        (caret-test-with-daemon
            (lambda (method params)
              (when (equal method "caret/edit")
                (setq edit-params params)
                (list :edit '(:documentChanges []) :unresolved []
                      :hunks (vector (caret-test--hunk uri 0 1 "two\n" "TWO\n"))
                      :stats '(:files 1 :hunks 1 :linesAdded 1 :linesRemoved 1 :unresolved 0
                                      :strategy "model" :durationMs 1))))
          (caret-mode 1)
          (let ((review (caret-edit 5 8 "upcase it")))
            (caret-test--settle)
            (should (equal (plist-get edit-params :instruction) "upcase it"))
            (should (equal (plist-get edit-params :range)
                           '(:start (:line 1 :character 0) :end (:line 1 :character 3))))
            (should (stringp (plist-get edit-params :partialResultToken)))
            (switch-to-buffer review)
            (should (string-match-p "1 hunk" (buffer-string)))
            (execute-kbd-macro "a")
            (kill-buffer review)))
        (should (equal (buffer-string) "one\nTWO\nthree\n"))))))

;;;; Search

(ert-deftest caret-test-search-xrefs ()
  (caret-test-with-buffer "x"
    (let ((path (caret--uri-to-path caret--uri)))
      (caret-test-with-daemon
          (lambda (method params)
            (when (equal method "caret/search")
              (should (equal (plist-get params :query) "total"))
              (list :results (vector (list :uri caret--uri :score 1.0 :symbol "add"
                                           :range '(:start (:line 4 :character 2) :end (:line 4 :character 7))
                                           :snippet "  let total = 0;\n  total += x;\n  more")))))
        (caret-mode 1)
        (let* ((xrefs (caret--search "total"))
               (location (xref-item-location (car xrefs))))
          (should (= (length xrefs) 1))
          (should (equal (xref-item-summary (car xrefs)) "total += x;  — add"))
          (should (equal (xref-file-location-file location) path))
          (should (= (xref-file-location-line location) 5))
          (should (= (xref-file-location-column location) 2)))
        (should (eq (caret-xref-backend) 'caret))
        ;; A language server's xref backend keeps priority.
        (let ((eglot--managed-mode t))
          (should (null (caret-xref-backend))))))))

;;;; Messages and lighter

(ert-deftest caret-test-messages-and-lighter ()
  (let ((caret--state 'ready) (caret--index-text nil))
    (caret--handle-notification nil 'window/showMessage '(:type 3 :message "caret: hello there"))
    (should (string-match-p "caret: hello there" (with-current-buffer "*caret log*" (buffer-string))))
    (caret--handle-notification nil 'window/logMessage '(:type 4 :message "logged line"))
    (should (string-match-p "logged line" (with-current-buffer "*caret log*" (buffer-string))))
    (caret--handle-request nil 'window/workDoneProgress/create '(:token "idx"))
    (caret--handle-notification nil '$/progress '(:token "idx" :value (:kind "report" :percentage 40)))
    (should (equal caret--lighter-text " caret[40%]"))
    (let ((caret--state 'restarting)) (caret--update-lighter))
    (should (equal caret--lighter-text " caret:restarting"))
    (should-error (caret--handle-request nil 'unknown/method nil) :type 'jsonrpc-error)))

(provide 'caret-test)
;;; caret-test.el ends here
