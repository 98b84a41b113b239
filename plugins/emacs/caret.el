;;; caret.el --- AI-assisted editing through the caret daemon  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The caret authors

;; Author: The caret authors
;; Maintainer: The caret authors
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1"))
;; Keywords: tools, convenience, languages
;; URL: https://github.com/caret-dev/caret

;; This file is not part of GNU Emacs.

;; This program is free software; you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;; This program is distributed in the hope that it will be useful,
;; but WITHOUT ANY WARRANTY; without even the implied warranty of
;; MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
;; GNU General Public License for more details.

;; You should have received a copy of the GNU General Public License
;; along with this program.  If not, see <https://www.gnu.org/licenses/>.

;;; Commentary:

;; caret is a local daemon that gives editors inline completion,
;; next-edit prediction, "apply" of a code sketch and code-base search
;; over one JSON-RPC protocol.  This package is its thin Emacs client:
;; it renders what the daemon decides and sends the keys back.
;;
;; It talks to `caret lsp' (which starts or attaches to the shared
;; daemon) through Emacs's own `jsonrpc.el', keeps the daemon's copy
;; of each buffer in sync with incremental changes, and coexists with
;; Eglot or lsp-mode in the same buffer: it uses its own connection,
;; its own overlays and keymaps, and never touches completion-at-point.
;;
;; The URL header above is a placeholder: caret has no public address
;; until it is published.  Install it from a checkout of the project
;; (`package-install-file' on plugins/emacs/caret.el), or point
;; `package-vc-install' at your own clone.
;;
;; Getting started:
;;
;;   (global-caret-mode 1)          ; or M-x caret-mode in one buffer
;;
;; While ghost text is shown:
;;
;;   TAB      accept it all            M-f   accept the next word
;;   M-e      accept the next line     M-n / M-p   cycle suggestions
;;   C-g      dismiss it
;;
;; While a next-edit suggestion is shown, TAB jumps to it and applies
;; it, and TAB again walks the chain; C-g dismisses it.  When the next
;; site is in a file that is not open (the daemon's workspace index
;; found it), only a hint shows in the echo area; TAB opens the file
;; there and the chain goes on in it.
;;
;; Everything else sits under `caret-keymap-prefix' (C-c ^ by default):
;;
;;   C-c ^ c  ask for a completion      C-c ^ n  ask for the next edit
;;   C-c ^ a  apply the kill ring's sketch to this buffer
;;   C-c ^ r  apply the region as a sketch to another buffer
;;   C-c ^ e  edit the region by instruction
;;   C-c ^ s  search the code base (xref)
;;   C-c ^ d  caret-doctor              C-c ^ l  the log buffer
;;
;; M-x caret-doctor shows the daemon's health report.  See
;; docs/plugins.md in the caret repository for installation.

;;; Code:

(require 'cl-lib)
(require 'jsonrpc)
(require 'subr-x)
(require 'url-util)
(require 'xref)
(require 'project)
(require 'diff-mode)

(defconst caret-version "0.1.0"
  "Version of the caret Emacs package.")

;;;; Customization

(defgroup caret nil
  "AI-assisted editing through the caret daemon."
  :group 'tools
  :prefix "caret-"
  :link '(url-link "https://github.com/caret-dev/caret"))

(defcustom caret-command '("caret" "lsp")
  "Command that serves caret over stdio, as a list of program and arguments.
`caret lsp' attaches to the user's daemon, starting it when none runs."
  :type '(repeat string))

(defcustom caret-auto-trigger t
  "When non-nil, ask for ghost text after every edit.
When nil, ask only with \\[caret-complete]."
  :type 'boolean)

(defcustom caret-next-edit-enabled t
  "When non-nil, ask for a next-edit suggestion after edits with no ghost text."
  :type 'boolean)

(defcustom caret-next-edit-delay 0.3
  "Seconds after an edit before asking for a next-edit suggestion."
  :type 'number)

(defcustom caret-next-edit-inline-lines 8
  "A next edit within this many lines of point is shown inline only.
Farther edits also get a fringe marker and a message naming the line."
  :type 'integer)

(defcustom caret-position-encodings '("utf-32" "utf-8" "utf-16")
  "Position encodings offered to the daemon, most preferred first.
Emacs counts characters, so utf-32 costs nothing to convert."
  :type '(repeat (choice (const "utf-32") (const "utf-8") (const "utf-16"))))

(defcustom caret-environment-variables
  '("PATH" "HTTP_PROXY" "HTTPS_PROXY" "NO_PROXY" "http_proxy" "https_proxy"
    "no_proxy" "ALL_PROXY" "NODE_EXTRA_CA_CERTS" "SSL_CERT_FILE")
  "Environment variables passed to the daemon for this connection.
An auto-started daemon does not share Emacs's environment, so these
travel in `initializationOptions'; see also `caret-environment-regexp'."
  :type '(repeat string))

(defcustom caret-environment-regexp "\\`[A-Z0-9_]*_API_KEY\\'"
  "Variables whose names match this regexp are passed to the daemon too.
They name the API keys of hosted models.  The daemon never logs them.
Set to nil to pass none."
  :type '(choice (const :tag "None" nil) regexp))

(defcustom caret-global-modes '(prog-mode text-mode conf-mode)
  "Major modes (and modes derived from them) in which `global-caret-mode' acts."
  :type '(repeat symbol))

(defcustom caret-events-buffer-size 0
  "Size of the JSON-RPC events buffer, *caret events*.
0 disables it (the fastest), nil keeps everything; use it to debug."
  :type '(choice (const :tag "Off" 0) (const :tag "Unlimited" nil) integer))

(defcustom caret-request-timeout 10
  "Seconds before a synchronous request to the daemon gives up."
  :type 'number)

(defcustom caret-apply-timeout 300
  "Seconds an apply or edit request may stream before it gives up."
  :type 'number)

(defcustom caret-reconnect-delays '(0.2 0.5 1 2 5 10)
  "Seconds to wait before each attempt to reach a restarted daemon.
The last value repeats while caret buffers remain."
  :type '(repeat number))

(defcustom caret-search-limit 50
  "Most results `caret-search' asks for."
  :type 'integer)

(defcustom caret-search-mode nil
  "Search mode sent with `caret-search', or nil for the daemon's default."
  :type '(choice (const :tag "Daemon default" nil)
                 (const "lexical") (const "semantic") (const "hybrid")))

(defcustom caret-use-xref t
  "When non-nil, caret answers xref requests in buffers with no language server.
In buffers managed by Eglot or lsp-mode, their xref backend keeps priority."
  :type 'boolean)

(defcustom caret-apply-dim-low-importance t
  "When non-nil, hunks the daemon marks as low importance are dimmed."
  :type 'boolean)

(defcustom caret-lighter " caret"
  "Mode-line lighter of `caret-mode'; the index state follows it."
  :type 'string)

(defface caret-ghost-face '((t :inherit shadow))
  "Face of ghost text (inline completion).")

(defface caret-next-edit-deleted-face '((t :inherit diff-removed :strike-through t))
  "Face of text a next-edit suggestion would delete.")

(defface caret-next-edit-inserted-face '((t :inherit diff-added))
  "Face of text a next-edit suggestion would insert.")

(defface caret-next-edit-fringe-face '((t :inherit warning))
  "Face of the fringe marker for a next edit away from point.")

(defface caret-review-header-face '((t :inherit diff-hunk-header))
  "Face of hunk headers in the apply review buffer.")

(defface caret-review-removed-face '((t :inherit diff-removed))
  "Face of removed lines in the apply review buffer.")

(defface caret-review-added-face '((t :inherit diff-added))
  "Face of added lines in the apply review buffer.")

(defface caret-review-dimmed-face '((t :inherit shadow))
  "Face of low-importance hunks in the apply review buffer.")

(defvar caret-ghost-shown-functions nil
  "Abnormal hook run with the ghost text string each time ghost text is shown.")

;;;; Pure helpers: positions, URIs, languages, text

(defun caret--char-units (char encoding)
  "Number of ENCODING code units CHAR takes."
  (pcase encoding
    ("utf-16" (if (> char #xFFFF) 2 1))
    ("utf-8" (cond ((< char #x80) 1) ((< char #x800) 2) ((< char #x10000) 3)
                   ((< char #x110000) 4)
                   ;; Raw bytes (eight-bit chars) are one byte on disk.
                   (t 1)))
    (_ 1)))

(defun caret--string-units (string encoding)
  "Length of STRING in ENCODING code units."
  (if (equal encoding "utf-32")
      (length string)
    (cl-loop for char across string sum (caret--char-units char encoding))))

(defun caret--units-to-chars (string units encoding)
  "Number of characters of STRING that UNITS code units in ENCODING cover.
A count inside a character or past the end is clamped, as LSP asks."
  (if (equal encoding "utf-32")
      (min units (length string))
    (let ((i 0) (n 0) (len (length string)))
      (while (and (< i len)
                  (<= (+ n (caret--char-units (aref string i) encoding)) units))
        (setq n (+ n (caret--char-units (aref string i) encoding))
              i (1+ i)))
      i)))

(defun caret--path-to-uri (path)
  "The file URI of PATH, percent-encoded as RFC 3986 asks."
  (concat "file://"
          (url-hexify-string (encode-coding-string (expand-file-name path) 'utf-8)
                             (append "/-._~!$&'()*+,;=:@" url-unreserved-chars nil))))

(defun caret--uri-to-path (uri)
  "The file name a file URI names, or nil for another scheme."
  (when (string-prefix-p "file://" uri)
    (let ((path (substring uri (length "file://"))))
      ;; Drop an authority (file://localhost/x); keep the path.
      (unless (string-prefix-p "/" path)
        (setq path (substring path (or (string-search "/" path) (length path)))))
      (decode-coding-string (url-unhex-string path) 'utf-8))))

(defconst caret--language-ids
  '((c++ . "cpp") (js . "javascript") (js2 . "javascript") (rjsx . "javascriptreact")
    (typescript . "typescript") (tsx . "typescriptreact") (sh . "shellscript")
    (bash . "shellscript") (emacs-lisp . "emacs-lisp") (lisp-interaction . "emacs-lisp")
    (python . "python") (ruby . "ruby") (rust . "rust") (go . "go") (java . "java")
    (c . "c") (csharp . "csharp") (markdown . "markdown") (gfm . "markdown")
    (json . "json") (js-json . "json") (yaml . "yaml") (css . "css") (html . "html")
    (mhtml . "html") (web . "html") (lua . "lua") (php . "php") (text . "plaintext")
    (fundamental . "plaintext") (conf-toml . "toml") (toml . "toml") (sql . "sql")
    (makefile-gmake . "makefile") (makefile . "makefile") (dockerfile . "dockerfile")
    (haskell . "haskell") (elixir . "elixir") (erlang . "erlang") (clojure . "clojure")
    (scala . "scala") (kotlin . "kotlin") (swift . "swift") (zig . "zig")
    (nix . "nix") (ocaml . "ocaml") (tuareg . "ocaml") (latex . "latex") (tex . "latex"))
  "LSP language identifiers by major mode name without \"-mode\" (and \"-ts\").")

(defun caret--language-id (mode)
  "LSP language identifier for major MODE (a symbol)."
  (let* ((name (replace-regexp-in-string "\\(?:-ts\\)?-mode\\'" "" (symbol-name mode)))
         (known (alist-get (intern name) caret--language-ids)))
    (or known name)))

(defun caret--snippet-text (snippet)
  "Plain text of SNIPPET in TextMate syntax: placeholders keep their defaults."
  ;; Escaped characters are set aside first so that \\$1 stays literal.
  (let* ((escapes nil)
         (text (replace-regexp-in-string
                "\\\\\\([$}\\\\]\\)"
                (lambda (match)
                  (push (substring match 1) escapes)
                  (string #xE000 (+ #xE001 (1- (length escapes)))))
                snippet t t))
         (previous nil))
    (while (not (equal text previous))
      (setq previous text
            text (replace-regexp-in-string "\\${[0-9]+:\\([^{}]*\\)}" "\\1" text t)))
    (setq text (replace-regexp-in-string "\\${[0-9]+}\\|\\$[0-9]+" "" text t))
    (setq escapes (nreverse escapes))
    (replace-regexp-in-string (string #xE000 ?.)
                              (lambda (match) (nth (- (aref match 1) #xE001) escapes))
                              text t t)))

(defun caret--item-text (item)
  "Return the text inline completion ITEM would insert."
  (let ((insert (plist-get item :insertText)))
    (if (stringp insert) insert (caret--snippet-text (or (plist-get insert :value) "")))))

(defun caret--ghost-layout (insert-text typed tail)
  "Plan ghost text for INSERT-TEXT, to replace TYPED (before point) and TAIL.
TYPED is the buffer text from the item's range start to point, TAIL the
text from point to the range end.  Return nil when the item does not
extend what was typed, else a plist: :text is the ghost string shown at
point, :replace-tail whether accepting must also delete TAIL (otherwise
TAIL is already the end of the insertion and stays)."
  (when (string-prefix-p typed insert-text)
    (let ((rest (substring insert-text (length typed))))
      (cond ((string-empty-p tail) (list :text rest :replace-tail nil))
            ((and (string-suffix-p tail rest) (> (length rest) (length tail)))
             (list :text (substring rest 0 (- (length rest) (length tail))) :replace-tail nil))
            (t (list :text rest :replace-tail t))))))

(defun caret--next-word-length (text)
  "Length of the next word of TEXT to accept (with leading blanks)."
  (if (string-match "\\`[ \t]*\\(?:[[:alnum:]_]+\\|[^[:alnum:]_[:space:]]+\\|\n\\)" text)
      (match-end 0)
    (length text)))

(defun caret--next-line-length (text)
  "Length of the next line of TEXT to accept, its newline included.
When TEXT starts with a newline, the line after it is taken with it."
  (let* ((start (if (string-prefix-p "\n" text) 1 0))
         (newline (string-search "\n" text start)))
    (if newline (1+ newline) (length text))))

(defun caret--index-summary (status)
  "Short mode-line text for an index STATUS result, or nil when ready.
STATUS is what `caret/index/status' answers: `indexes' holding each
root's status (or one such status)."
  (let* ((roots (if (plist-member status :indexes)
                    (append (plist-get status :indexes) nil)
                  (list status)))
         (states (delq nil (mapcar (lambda (root) (plist-get root :state)) roots))))
    (cond ((member "error" states) "!")
          ((or (member "scanning" states) (member "indexing" states))
           (let ((done 0) (total 0))
             (dolist (root roots)
               (let ((progress (plist-get root :progress)))
                 (when (consp progress)
                   (setq done (+ done (or (plist-get progress :done) 0))
                         total (+ total (or (plist-get progress :total) 0))))))
             (if (> total 0) (format "[%d%%]" (/ (* 100 done) total)) "[indexing]")))
          (t nil))))

(defun caret--hunk-get (hunk &rest keys)
  "First non-nil value of KEYS in HUNK (the protocol names some fields two ways)."
  (cl-some (lambda (key) (plist-get hunk key)) keys))

(defun caret--hunk-key (hunk)
  "Identity of HUNK, to merge streamed hunks with the final result."
  (list (caret--hunk-get hunk :uri)
        (caret--hunk-get hunk :oldRange :range)
        (caret--hunk-get hunk :newText)))

(defun caret--diff-lines (prefix text)
  "TEXT as diff lines, each starting with PREFIX."
  (if (string-empty-p text)
      ""
    (mapconcat (lambda (line) (concat prefix line "\n"))
               (split-string (string-remove-suffix "\n" text) "\n")
               "")))

;;;; Connection

(defvar caret--connection nil
  "The jsonrpc connection to `caret lsp', or nil.")

(defvar caret--state 'off
  "Connection state: off, connecting, ready or restarting.")

(defvar caret--generation 0
  "Counts connections; a buffer opened on an older one must be reopened.")

(defvar caret--capabilities nil
  "The server capabilities the daemon answered `initialize' with.")

(defvar caret--encoding "utf-16"
  "The position encoding negotiated with the daemon.")

(defvar caret--roots nil
  "Workspace folders this connection has named to the daemon.")

(defvar caret--index-text nil
  "Index state shown in the mode line, or nil.")

(defvar caret--lighter-text nil
  "The lighter string, recomputed when the state changes.")

(defvar caret--progress-handlers (make-hash-table :test #'equal)
  "Functions receiving `$/progress' values, by token.")

(defvar caret--reconnect-timer nil)
(defvar caret--reconnect-attempt 0)
(defvar caret--index-timer nil)
(defvar caret-mode)
(defvar-local caret--next-edit nil "The next-edit suggestion shown in this buffer, or nil.")
(defvar caret--stopping nil
  "Non-nil while caret itself shuts the connection down.")

(defvar-local caret--uri nil "The URI this buffer is known by.")
(defvar-local caret--version 0 "Version of this buffer sent to the daemon.")
(defvar-local caret--opened nil "Generation this buffer was opened on, or nil.")
(defvar-local caret--pending nil "Content changes not yet sent, newest first.")
(defvar-local caret--resync nil "Non-nil when the next sync must send the whole text.")
(defvar-local caret--before-change nil "Region and positions seen by the last before-change.")

(defun caret--message (format-string &rest args)
  "Show FORMAT-STRING formatted with ARGS in the echo area, prefixed by caret."
  (message "%s" (concat "caret: " (apply #'format-message format-string args))))

(defun caret--log (format-string &rest args)
  "Append FORMAT-STRING formatted with ARGS to the *caret log* buffer."
  (with-current-buffer (get-buffer-create "*caret log*")
    (let ((inhibit-read-only t))
      (goto-char (point-max))
      (insert (format-time-string "%H:%M:%S ") (apply #'format format-string args) "\n"))))

(defun caret--served-p (method)
  "Non-nil when the connected daemon serves METHOD."
  (let ((methods (plist-get (plist-get (plist-get caret--capabilities :experimental) :caret)
                            :methods)))
    (and methods (seq-contains-p methods method))))

(defun caret--environment ()
  "The environment `initializationOptions' carries, as a plist."
  (let (env)
    (dolist (entry process-environment)
      (when (string-match "\\`\\([^=]+\\)=\\(.*\\)\\'" entry)
        (let ((name (match-string 1 entry)) (value (match-string 2 entry)))
          (when (and (or (member name caret-environment-variables)
                         (and caret-environment-regexp
                              (let ((case-fold-search nil))
                                (string-match-p caret-environment-regexp name))))
                     (not (plist-member env (intern (concat ":" name)))))
            (setq env (plist-put env (intern (concat ":" name)) value))))))
    env))

(defun caret--workspace-folder (root)
  "LSP WorkspaceFolder for directory ROOT."
  (list :uri (caret--path-to-uri (directory-file-name root))
        :name (file-name-nondirectory (directory-file-name root))))

(defun caret--buffer-root ()
  "Workspace root of the current buffer: its project, else its directory."
  (let ((project (ignore-errors (project-current nil))))
    (expand-file-name (if project (project-root project) default-directory))))

(defun caret--live-p ()
  "Non-nil when the connection is up and initialized."
  (and (eq caret--state 'ready) caret--connection (jsonrpc-running-p caret--connection)))

(defun caret--update-lighter ()
  "Recompute the mode-line lighter from the connection and index state."
  (setq caret--lighter-text
        (concat caret-lighter
                (pcase caret--state
                  ('ready (or caret--index-text ""))
                  ('connecting ":…")
                  ('restarting ":restarting")
                  (_ ":off"))))
  (force-mode-line-update t))

(defun caret--make-process ()
  "Start `caret-command' as a pipe process."
  (unless (executable-find (car caret-command))
    (user-error "Cannot find `%s'; install caret (npm install -g caret) or set `caret-command'"
                (car caret-command)))
  (make-process :name "caret"
                :command caret-command
                :connection-type 'pipe
                :coding 'utf-8-emacs-unix
                :noquery t
                :stderr (get-buffer-create "*caret stderr*")
                :file-handler nil))

(defun caret--connect ()
  "Start a connection to the daemon and initialize it asynchronously."
  (setq caret--state 'connecting
        caret--generation (1+ caret--generation)
        caret--capabilities nil
        caret--roots (caret--wanted-roots))
  (caret--update-lighter)
  (let* ((default-directory (expand-file-name "~/"))
         (connection
          (make-instance 'jsonrpc-process-connection
                         :name "caret"
                         :process #'caret--make-process
                         :events-buffer-scrollback-size caret-events-buffer-size
                         :notification-dispatcher #'caret--handle-notification
                         :request-dispatcher #'caret--handle-request
                         :on-shutdown #'caret--on-shutdown))
         (generation caret--generation))
    (setq caret--connection connection)
    (jsonrpc-async-request
     connection :initialize
     (list :processId (emacs-pid)
           :clientInfo (list :name "caret.el" :version caret-version)
           :rootUri nil
           :capabilities
           (list :general (list :positionEncodings (vconcat caret-position-encodings))
                 :window (list :workDoneProgress t)
                 :textDocument (list :inlineCompletion (list :dynamicRegistration :json-false)))
           :initializationOptions (list :env (or (caret--environment) (make-hash-table)))
           :workspaceFolders (vconcat (mapcar #'caret--workspace-folder caret--roots)))
     :timeout 60
     :success-fn (lambda (result)
                   (when (and (eq connection caret--connection) (= generation caret--generation))
                     (caret--on-initialized connection result)))
     :error-fn (lambda (error)
                 (caret--log "initialize failed: %S" error)
                 (caret--message "the daemon refused to start a session: %s"
                          (plist-get error :message)))
     :timeout-fn (lambda ()
                   (caret--message "the daemon did not answer within 60 s; see M-x caret-doctor")))))

(defun caret--on-initialized (connection result)
  "Finish the handshake on CONNECTION with the `initialize' RESULT."
  (setq caret--capabilities (plist-get result :capabilities)
        caret--encoding (or (plist-get caret--capabilities :positionEncoding) "utf-16")
        caret--state 'ready
        caret--reconnect-attempt 0)
  (jsonrpc-notify connection :initialized (make-hash-table))
  (caret--log "connected to caret %s (%s positions)"
              (plist-get (plist-get result :serverInfo) :version) caret--encoding)
  (dolist (buffer (buffer-list))
    (with-current-buffer buffer
      (when caret-mode (caret--open-document))))
  (caret--update-lighter)
  (caret--poll-index))

(defun caret--wanted-roots ()
  "Workspace roots of every buffer in `caret-mode'."
  (let (roots)
    (dolist (buffer (buffer-list))
      (with-current-buffer buffer
        (when caret-mode
          (cl-pushnew (caret--buffer-root) roots :test #'equal))))
    (nreverse roots)))

(defun caret--ensure-root ()
  "Name the current buffer's root to the daemon when it is new."
  (let ((root (caret--buffer-root)))
    (unless (member root caret--roots)
      (push root caret--roots)
      (when (caret--live-p)
        (jsonrpc-notify caret--connection :workspace/didChangeWorkspaceFolders
                        (list :event (list :added (vector (caret--workspace-folder root))
                                           :removed [])))))))

(defun caret--ensure-connection ()
  "Start a connection when there is none; non-nil when it is ready now."
  (cond ((caret--live-p) t)
        ((and caret--connection (jsonrpc-running-p caret--connection)) nil)
        (caret--reconnect-timer nil)
        (t (condition-case err
               (caret--connect)
             (error (setq caret--state 'off)
                    (caret--update-lighter)
                    (message "%s" (error-message-string err))))
           nil)))

(defun caret--on-shutdown (connection)
  "Called by jsonrpc when CONNECTION's process died."
  (when (eq connection caret--connection)
    (setq caret--connection nil
          caret--capabilities nil
          caret--index-text nil)
    (clrhash caret--progress-handlers)
    (dolist (buffer (buffer-list))
      (with-current-buffer buffer
        (when caret-mode
          (setq caret--opened nil)
          (caret--clear-ghost)
          (caret--clear-next-edit))))
    (cond (caret--stopping (setq caret--state 'off))
          ((caret--wanted-roots)
           ;; The daemon went away (crashed, upgraded, `caret stop'): come back on our own.
           (setq caret--state 'restarting)
           (caret--log "the daemon connection ended; reconnecting")
           (caret--schedule-reconnect))
          (t (setq caret--state 'off)))
    (caret--update-lighter)))

(defun caret--schedule-reconnect ()
  "Try to reach the daemon again after the next of `caret-reconnect-delays'."
  (when caret--reconnect-timer (cancel-timer caret--reconnect-timer))
  (let ((delay (or (nth caret--reconnect-attempt caret-reconnect-delays)
                   (car (last caret-reconnect-delays)) 5)))
    (setq caret--reconnect-attempt (1+ caret--reconnect-attempt))
    (when (= caret--reconnect-attempt 4)
      (caret--message "cannot reach the daemon; still trying (see *caret stderr*, M-x caret-doctor)"))
    (setq caret--reconnect-timer
          (run-at-time delay nil
                       (lambda ()
                         (setq caret--reconnect-timer nil)
                         (when (and (not caret--connection) (caret--wanted-roots))
                           (condition-case err
                               (caret--connect)
                             (error (caret--log "reconnect failed: %s" (error-message-string err))
                                    (setq caret--state 'restarting)
                                    (caret--schedule-reconnect)))))))))

(defun caret-shutdown ()
  "End this Emacs's session with the daemon (the shared daemon stays up)."
  (interactive)
  (when caret--reconnect-timer (cancel-timer caret--reconnect-timer))
  (setq caret--reconnect-timer nil)
  (when caret--index-timer (cancel-timer caret--index-timer))
  (setq caret--index-timer nil)
  (let ((connection caret--connection)
        (caret--stopping t))
    (when (and connection (jsonrpc-running-p connection))
      (ignore-errors (jsonrpc-request connection :shutdown nil :timeout 2))
      (ignore-errors (jsonrpc-notify connection :exit nil))
      (ignore-errors (jsonrpc-shutdown connection)))
    (when (eq connection caret--connection) (caret--on-shutdown connection)))
  (setq caret--state 'off)
  (caret--update-lighter))

(defun caret-restart ()
  "Reconnect to the daemon and reopen every caret buffer."
  (interactive)
  (caret-shutdown)
  (caret--connect))

;;;; Messages from the daemon

(defun caret--handle-notification (_connection method params)
  "Dispatch a notification METHOD with PARAMS from the daemon."
  (pcase method
    ('$/progress
     (let ((handler (gethash (plist-get params :token) caret--progress-handlers)))
       (when handler (funcall handler (plist-get params :value)))))
    ('window/showMessage (caret--show-message params))
    ('window/logMessage (caret--log "%s" (plist-get params :message)))
    ('$/logTrace (caret--log "trace: %s" (plist-get params :message)))
    (_ (caret--log "unhandled notification %s" method))))

(defun caret--handle-request (_connection method params)
  "Answer a request METHOD with PARAMS from the daemon."
  (pcase method
    ('window/workDoneProgress/create
     (let ((token (plist-get params :token)))
       (puthash token #'caret--server-progress caret--progress-handlers))
     nil)
    ('window/showMessageRequest (caret--show-message params) nil)
    (_ (jsonrpc-error :code -32601 :message (format "caret.el does not serve %s" method)))))

(defun caret--show-message (params)
  "Show a `window/showMessage' PARAMS the Emacs way."
  (let ((text (plist-get params :message)))
    (caret--log "%s" text)
    (pcase (plist-get params :type)
      (1 (display-warning 'caret text :error))
      (2 (display-warning 'caret text :warning))
      (_ (caret--message "%s" (string-remove-prefix "caret: " text))))))

(defun caret--server-progress (value)
  "Reflect work-done progress VALUE the daemon reports (indexing) in the lighter."
  (pcase (plist-get value :kind)
    ((or "begin" "report")
     (setq caret--index-text
           (if (plist-get value :percentage)
               (format "[%d%%]" (plist-get value :percentage))
             "[indexing]")))
    ("end" (setq caret--index-text nil) (caret--poll-index)))
  (caret--update-lighter))

(defun caret--poll-index ()
  "Ask for the index state, and again later while the index is busy."
  (when caret--index-timer (cancel-timer caret--index-timer))
  (setq caret--index-timer nil)
  (when (and (caret--live-p) (caret--served-p "caret/index/status"))
    (jsonrpc-async-request
     caret--connection :caret/index/status (make-hash-table)
     :timeout 10
     :success-fn (lambda (status)
                   (setq caret--index-text (caret--index-summary status))
                   (caret--update-lighter)
                   (setq caret--index-timer
                         (run-at-time (if caret--index-text 2 30) nil #'caret--poll-index)))
     :error-fn (lambda (_error) nil)
     :timeout-fn #'ignore)))

;;;; Document synchronisation

(defun caret--lsp-position (&optional pos)
  "The LSP position of POS (default point) in the negotiated encoding."
  (save-restriction
    (widen)
    (save-excursion
      (when pos (goto-char pos))
      (let ((bol (line-beginning-position)))
        (list :line (1- (line-number-at-pos nil t))
              :character (if (equal caret--encoding "utf-32")
                             (- (point) bol)
                           (caret--string-units
                            (buffer-substring-no-properties bol (point)) caret--encoding)))))))

(defun caret--position-point (position)
  "The buffer position of LSP POSITION, clamped to the buffer."
  (save-restriction
    (widen)
    (save-excursion
      (goto-char (point-min))
      (if (> (forward-line (plist-get position :line)) 0)
          (point-max)
        (let ((line (buffer-substring-no-properties (point) (line-end-position))))
          (+ (point) (caret--units-to-chars line (plist-get position :character) caret--encoding)))))))

(defun caret--range-region (range)
  "Buffer positions (START . END) of LSP RANGE."
  (cons (caret--position-point (plist-get range :start))
        (caret--position-point (plist-get range :end))))

(defun caret--buffer-text ()
  "The whole text of the current buffer, without properties."
  (save-restriction (widen) (buffer-substring-no-properties (point-min) (point-max))))

(defun caret--open-document ()
  "Send `didOpen' for the current buffer on the current connection."
  (when (and (caret--live-p) caret--uri (not (eql caret--opened caret--generation)))
    (caret--ensure-root)
    (setq caret--pending nil
          caret--resync nil
          caret--opened caret--generation
          caret--version (1+ caret--version))
    (jsonrpc-notify caret--connection :textDocument/didOpen
                    (list :textDocument
                          (list :uri caret--uri
                                :languageId (caret--language-id major-mode)
                                :version caret--version
                                :text (caret--buffer-text))))))

(defun caret--close-document ()
  "Send `didClose' for the current buffer."
  (when (and (caret--live-p) (eql caret--opened caret--generation))
    (jsonrpc-notify caret--connection :textDocument/didClose
                    (list :textDocument (list :uri caret--uri))))
  (setq caret--opened nil))

(defun caret--before-change (beg end)
  "Remember the region BEG..END about to change, in LSP positions."
  (when (eql caret--opened caret--generation)
    (setq caret--before-change
          (list beg end (caret--lsp-position beg) (caret--lsp-position end)))))

(defun caret--after-change (beg end old-length)
  "Record the change of BEG..END (previously OLD-LENGTH long) for the daemon."
  (when (eql caret--opened caret--generation)
    (pcase caret--before-change
      (`(,b-beg ,b-end ,start ,old-end)
       (if (and (= b-beg beg) (= (- b-end b-beg) old-length) (not caret--resync))
           (push (list :range (list :start start :end old-end)
                       :text (buffer-substring-no-properties beg end))
                 caret--pending)
         ;; The before and after hooks disagree (some primitives widen one
         ;; side): send the whole text instead of guessing.
         (setq caret--resync t)))
      (_ (setq caret--resync t)))
    (setq caret--before-change nil)
    (caret--ghost-after-change beg end old-length)
    (caret--clear-next-edit)))

(defun caret--flush-changes ()
  "Send the pending edits of the current buffer in one `didChange'."
  (when (and (or caret--pending caret--resync) (eql caret--opened caret--generation)
             (caret--live-p))
    (setq caret--version (1+ caret--version))
    (jsonrpc-notify caret--connection :textDocument/didChange
                    (list :textDocument (list :uri caret--uri :version caret--version)
                          :contentChanges
                          (if caret--resync
                              (vector (list :text (caret--buffer-text)))
                            (vconcat (reverse caret--pending)))))
    (setq caret--pending nil caret--resync nil)))

(defun caret--after-save ()
  "Tell the daemon the buffer was saved."
  (caret--flush-changes)
  (when (and (caret--live-p) (eql caret--opened caret--generation))
    (jsonrpc-notify caret--connection :textDocument/didSave
                    (list :textDocument (list :uri caret--uri)))))

(defun caret--prepare-request ()
  "Make sure the daemon has this buffer as it is now; non-nil when it has."
  (when (caret--ensure-connection)
    (unless (eql caret--opened caret--generation) (caret--open-document))
    (caret--flush-changes)
    t))

(defun caret--text-document ()
  "The TextDocumentIdentifier of the current buffer."
  (list :uri caret--uri))

;;;; Ghost text (inline completion)

(cl-defstruct (caret--ghost (:constructor caret--ghost-make) (:copier nil))
  "Ghost text shown in a buffer."
  items index item id overlay point text tail-end replace-tail typed accepted)

(defvar-local caret--ghost nil "The ghost text shown in this buffer, or nil.")
(defvar-local caret--ghost-active nil "Non-nil while ghost text is shown (enables `caret-ghost-map').")
(defvar-local caret--completion-seq 0 "Counts completion requests; older answers are dropped.")
(defvar-local caret--last-tick 0 "`buffer-chars-modified-tick' after the last command.")
(defvar-local caret--typed-through nil "Non-nil when this command typed into the ghost text.")
(defvar caret--inhibit-ghost-check nil
  "Non-nil while caret itself edits the buffer for the ghost text.")

(defvar caret-ghost-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'caret-accept)
    (define-key map (kbd "<tab>") #'caret-accept)
    (define-key map (kbd "M-f") #'caret-accept-word)
    (define-key map (kbd "M-e") #'caret-accept-line)
    (define-key map (kbd "M-n") #'caret-next-suggestion)
    (define-key map (kbd "M-p") #'caret-previous-suggestion)
    (define-key map (kbd "C-g") #'caret-dismiss)
    map)
  "Keymap active while ghost text is shown.")

(defun caret--item-id (item)
  "The daemon's id of ITEM, from its accept command."
  (let ((args (plist-get (plist-get item :command) :arguments)))
    (and args (> (length args) 0) (let ((id (aref args 0))) (and (stringp id) id)))))

(defun caret--ghost-string (text)
  "TEXT propertized as ghost text, with the cursor kept before it."
  (let ((ghost (propertize text 'face 'caret-ghost-face)))
    (unless (string-empty-p ghost)
      (put-text-property 0 1 'cursor t ghost))
    ghost))

(defun caret--render-ghost (ghost)
  "Show GHOST's current text at its point."
  (let* ((point (caret--ghost-point ghost))
         (tail-end (if (caret--ghost-replace-tail ghost) (caret--ghost-tail-end ghost) point))
         (overlay (or (caret--ghost-overlay ghost)
                      (let ((ov (make-overlay point tail-end nil t nil)))
                        (overlay-put ov 'priority 1000)
                        (overlay-put ov 'caret-ghost t)
                        ov))))
    (move-overlay overlay point tail-end)
    (overlay-put overlay 'display (and (> tail-end point) ""))
    (overlay-put overlay 'after-string (caret--ghost-string (caret--ghost-text ghost)))
    (setf (caret--ghost-overlay ghost) overlay)
    (setq caret--ghost ghost caret--ghost-active t)
    (run-hook-with-args 'caret-ghost-shown-functions (caret--ghost-text ghost))))

(defun caret--ghost-from-items (items index)
  "A ghost for ITEMS (a list) at INDEX, laid out at point, or nil."
  (let* ((item (nth index items))
         (range (plist-get item :range))
         (region (if range (caret--range-region range) (cons (point) (point))))
         (start (min (car region) (point)))
         (end (max (cdr region) (point)))
         (typed (buffer-substring-no-properties start (point)))
         (layout (caret--ghost-layout (caret--item-text item) typed
                                      (buffer-substring-no-properties (point) end))))
    (when (and layout (not (string-empty-p (plist-get layout :text))))
      (caret--ghost-make :items items :index index :item item :id (caret--item-id item)
                         :point (point) :text (plist-get layout :text)
                         :tail-end end :replace-tail (plist-get layout :replace-tail)
                         :typed typed :accepted ""))))

(defun caret--show-items (items)
  "Show the first usable of ITEMS (a list) as ghost text; non-nil when shown."
  (caret--clear-ghost)
  (cl-loop for index from 0 below (length items)
           for ghost = (caret--ghost-from-items items index)
           when ghost do
           (caret--render-ghost ghost)
           (caret--notify-item :caret/inlineCompletion/didShow ghost)
           and return t))

(defun caret--notify-item (method ghost &rest params)
  "Send notification METHOD about GHOST's item with extra PARAMS."
  (when (and (caret--ghost-id ghost) (caret--live-p) (caret--served-p (substring (symbol-name method) 1)))
    (jsonrpc-notify caret--connection method (append (list :id (caret--ghost-id ghost)) params))))

(defun caret--clear-ghost ()
  "Remove the ghost text without telling the daemon."
  (when caret--ghost
    (when (caret--ghost-overlay caret--ghost) (delete-overlay (caret--ghost-overlay caret--ghost)))
    (setq caret--ghost nil caret--ghost-active nil)))

(defun caret--reject-ghost ()
  "Remove the ghost text and report it rejected."
  (when caret--ghost
    (let ((ghost caret--ghost))
      (caret--clear-ghost)
      (caret--notify-item :caret/inlineCompletion/didReject ghost))))

(defun caret--completion-items (result)
  "The inline completion items of RESULT, as a list."
  (append (if (and (consp result) (plist-member result :items)) (plist-get result :items) result) nil))

(defun caret--request-completion (trigger-kind)
  "Ask the daemon for ghost text at point; TRIGGER-KIND 1 invoked, 2 automatic."
  (when (and (caret--prepare-request) (caret--served-p "textDocument/inlineCompletion"))
    (let ((seq (cl-incf caret--completion-seq))
          (buffer (current-buffer))
          (tick (buffer-chars-modified-tick))
          (point (point)))
      (jsonrpc-async-request
       caret--connection :textDocument/inlineCompletion
       (list :textDocument (caret--text-document)
             :position (caret--lsp-position)
             :context (list :triggerKind trigger-kind))
       :timeout 10
       :success-fn
       (lambda (result)
         (when (buffer-live-p buffer)
           (with-current-buffer buffer
             (when (and (= seq caret--completion-seq) (= tick (buffer-chars-modified-tick))
                        (= point (point)) caret-mode)
               (let ((items (caret--completion-items result)))
                 (cond ((caret--show-items items))
                       ((= trigger-kind 1) (caret--message "no suggestion here"))
                       (t (caret--schedule-next-edit))))))))
       :error-fn (lambda (error)
                   (caret--log "inline completion failed: %s" (plist-get error :message)))
       :timeout-fn #'ignore)
      t)))

(defun caret--ghost-after-change (beg end old-length)
  "Keep the ghost when the change BEG END OLD-LENGTH typed into it, else reject it."
  (when caret--ghost
    (let* ((ghost caret--ghost)
           (text (caret--ghost-text ghost))
           (inserted (buffer-substring-no-properties beg end)))
      (if (and (not caret--inhibit-ghost-check)
               (= old-length 0) (= beg (caret--ghost-point ghost))
               (not (string-empty-p inserted))
               (string-prefix-p inserted text)
               (< (length inserted) (length text)))
          ;; Typing what the ghost predicted: shrink it, no round trip.
          (progn
            (setf (caret--ghost-text ghost) (substring text (length inserted))
                  (caret--ghost-point ghost) end
                  (caret--ghost-typed ghost) (concat (caret--ghost-typed ghost) inserted)
                  (caret--ghost-tail-end ghost) (+ (caret--ghost-tail-end ghost) (length inserted)))
            (setq caret--typed-through t)
            (caret--render-ghost ghost))
        (unless caret--inhibit-ghost-check (caret--reject-ghost))))))

(defun caret--insert-accepted (ghost text)
  "Insert TEXT, the next accepted part of GHOST, at its point."
  (let ((caret--inhibit-ghost-check t))
    (goto-char (caret--ghost-point ghost))
    (insert text)
    (setf (caret--ghost-accepted ghost) (concat (caret--ghost-accepted ghost) text)
          (caret--ghost-point ghost) (point)
          (caret--ghost-tail-end ghost) (+ (caret--ghost-tail-end ghost) (length text))
          (caret--ghost-text ghost) (substring (caret--ghost-text ghost) (length text)))))

(defun caret--finish-accept (ghost)
  "GHOST was accepted whole: tidy the tail and run the item's command."
  (let ((caret--inhibit-ghost-check t))
    (when (and (caret--ghost-replace-tail ghost) (> (caret--ghost-tail-end ghost) (point)))
      (delete-region (point) (caret--ghost-tail-end ghost))))
  (caret--clear-ghost)
  (let ((command (plist-get (caret--ghost-item ghost) :command)))
    (when (and command (caret--live-p))
      (caret--flush-changes)
      (jsonrpc-async-request caret--connection :workspace/executeCommand
                             (list :command (plist-get command :command)
                                   :arguments (or (plist-get command :arguments) []))
                             :timeout 10 :success-fn #'ignore
                             :error-fn (lambda (error)
                                         (caret--log "accept command failed: %s"
                                                     (plist-get error :message)))
                             :timeout-fn #'ignore))))

(defun caret--accept-part (length-fn)
  "Accept the part of the ghost text LENGTH-FN measures."
  (let* ((ghost (or caret--ghost (user-error "No ghost text here")))
         (text (caret--ghost-text ghost))
         (part (substring text 0 (funcall length-fn text))))
    (caret--insert-accepted ghost part)
    (if (string-empty-p (caret--ghost-text ghost))
        (caret--finish-accept ghost)
      (caret--render-ghost ghost)
      (caret--flush-changes)
      (caret--notify-item :caret/inlineCompletion/didPartiallyAccept ghost
                          :acceptedLength (caret--string-units
                                           (concat (caret--ghost-typed ghost) (caret--ghost-accepted ghost))
                                           caret--encoding)))))

(defun caret-accept ()
  "Accept the whole ghost text."
  (interactive)
  (caret--accept-part #'length))

(defun caret-accept-word ()
  "Accept the next word of the ghost text."
  (interactive)
  (caret--accept-part #'caret--next-word-length))

(defun caret-accept-line ()
  "Accept the next line of the ghost text."
  (interactive)
  (caret--accept-part #'caret--next-line-length))

(defun caret-dismiss ()
  "Dismiss the ghost text or the next-edit suggestion."
  (interactive)
  (cond (caret--ghost (caret--reject-ghost))
        (caret--next-edit (caret--reject-next-edit))
        (t (keyboard-quit))))

(defun caret--cycle (step)
  "Show the suggestion STEP places away from the current one."
  (let* ((ghost (or caret--ghost (user-error "No ghost text here")))
         (items (caret--ghost-items ghost))
         (count (length items)))
    (if (< count 2)
        (caret--message "this is the only suggestion")
      (let ((point (caret--ghost-point ghost)) found)
        (goto-char point)
        (dotimes (i (1- count))
          (unless found
            (let* ((index (mod (+ (caret--ghost-index ghost) (* step (1+ i))) count))
                   (candidate (caret--ghost-from-items items index)))
              (when candidate (setq found candidate)))))
        (if (not found)
          (caret--message "this is the only suggestion")
          (caret--clear-ghost)
          (caret--render-ghost found)
          (caret--notify-item :caret/inlineCompletion/didShow found)
          (caret--message "suggestion %d/%d" (1+ (caret--ghost-index found)) count))))))

(defun caret-next-suggestion ()
  "Show the next inline suggestion."
  (interactive)
  (caret--cycle 1))

(defun caret-previous-suggestion ()
  "Show the previous inline suggestion."
  (interactive)
  (caret--cycle -1))

(defun caret-complete ()
  "Ask for ghost text at point now."
  (interactive)
  (unless caret-mode (user-error "Caret-mode is off in this buffer"))
  (caret--clear-ghost)
  (unless (caret--live-p) (caret--message "connecting to the daemon…"))
  (caret--request-completion 1))

(defconst caret--own-commands
  '(caret-accept caret-accept-word caret-accept-line caret-next-suggestion
    caret-previous-suggestion caret-dismiss caret-complete caret-next-edit-accept
    caret-next-edit-jump caret-next-edit)
  "Commands that manage caret's suggestions themselves.")

(defun caret--post-command ()
  "After each command: sync, keep or drop suggestions, and ask for new ones."
  (when caret-mode
    (let ((modified (/= caret--last-tick (buffer-chars-modified-tick)))
          (own (memq this-command caret--own-commands)))
      (setq caret--last-tick (buffer-chars-modified-tick))
      (when (and caret--ghost (not own) (/= (point) (caret--ghost-point caret--ghost)))
        (caret--reject-ghost))
      (caret--flush-changes)
      (when modified
        (caret--cancel-next-edit-timer)
        (when (and caret-auto-trigger (not caret--ghost)
                   (not (memq this-command '(caret-accept-word caret-accept-line
                                                               caret-next-edit-accept undo))))
          (unless (caret--request-completion 2) (caret--schedule-next-edit))))
      (setq caret--typed-through nil))))

;;;; Next edit

(cl-defstruct (caret--next-edit (:constructor caret--next-edit-make) (:copier nil))
  "A next-edit suggestion shown in a buffer."
  id edits jump overlays reason)

(defvar-local caret--next-edit-active nil "Non-nil while a next edit is shown (enables `caret-next-edit-map').")
(defvar-local caret--next-edit-seq 0 "Counts next-edit requests; older answers are dropped.")
(defvar caret--next-edit-timer nil)

(defvar caret-next-edit-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'caret-next-edit-accept)
    (define-key map (kbd "<tab>") #'caret-next-edit-accept)
    (define-key map (kbd "C-g") #'caret-dismiss)
    map)
  "Keymap active while a next-edit suggestion is shown.")

(defun caret--uri-buffer (uri)
  "The live caret buffer known by URI, or nil."
  (cl-find-if (lambda (buffer)
                (equal (buffer-local-value 'caret--uri buffer) uri))
              (buffer-list)))

(defun caret--edit-current-p (edit)
  "Non-nil when EDIT was computed for the current version of its document."
  (let* ((document (plist-get edit :textDocument))
         (buffer (caret--uri-buffer (plist-get document :uri))))
    (and buffer
         (with-current-buffer buffer
           (and (eql caret--opened caret--generation) (null caret--pending) (not caret--resync)
                (eql (plist-get document :version) caret--version))))))

(defun caret--cancel-next-edit-timer ()
  "Cancel a pending next-edit request."
  (when caret--next-edit-timer (cancel-timer caret--next-edit-timer))
  (setq caret--next-edit-timer nil))

(defun caret--schedule-next-edit ()
  "Ask for a next edit after `caret-next-edit-delay' unless something else happens."
  (caret--cancel-next-edit-timer)
  (when (and caret-next-edit-enabled (caret--served-p "caret/nextEdit"))
    (let ((buffer (current-buffer)))
      (setq caret--next-edit-timer
            (run-at-time caret-next-edit-delay nil
                         (lambda ()
                           (setq caret--next-edit-timer nil)
                           (when (and (buffer-live-p buffer) (eq buffer (window-buffer (selected-window))))
                             (with-current-buffer buffer
                               (unless caret--ghost (caret--request-next-edit nil))))))))))

(defun caret--request-next-edit (interactive)
  "Ask for the next edit at point; report a miss when INTERACTIVE."
  (when (and (caret--prepare-request) (caret--served-p "caret/nextEdit"))
    (let ((seq (cl-incf caret--next-edit-seq))
          (buffer (current-buffer))
          (tick (buffer-chars-modified-tick)))
      (jsonrpc-async-request
       caret--connection :caret/nextEdit
       (list :textDocument (list :uri caret--uri :version caret--version)
             :position (caret--lsp-position))
       :timeout 10
       :success-fn
       (lambda (result)
         (when (buffer-live-p buffer)
           (with-current-buffer buffer
             (when (and (= seq caret--next-edit-seq) (= tick (buffer-chars-modified-tick))
                        caret-mode (not caret--ghost))
               (if (and result (or (> (length (plist-get result :edits)) 0) (plist-get result :jump))
                        (cl-every #'caret--edit-current-p (plist-get result :edits)))
                   (caret--show-next-edit result)
                 (when interactive (caret--message "no next edit predicted")))))))
       :error-fn (lambda (error) (caret--log "next edit failed: %s" (plist-get error :message)))
       :timeout-fn #'ignore)
      t)))

(defun caret--next-edit-key-hint ()
  "The key that accepts a next edit, for messages."
  (substitute-command-keys "\\<caret-next-edit-map>\\[caret-next-edit-accept]"))

(defun caret--jump-label (jump)
  "JUMP's file name and line, as \"file.js:12\"."
  (let ((uri (plist-get jump :uri)))
    (format "%s:%d" (file-name-nondirectory (or (caret--uri-to-path uri) uri))
            (1+ (plist-get (plist-get jump :position) :line)))))

(defun caret--show-next-edit (suggestion)
  "Show SUGGESTION's edits in their buffers, with a fringe marker when far.
A suggestion with no edits only jumps into a file that is not open: it
shows as a hint in the echo area, with `caret-next-edit-map' active."
  (caret--clear-next-edit)
  (let* ((edits (append (plist-get suggestion :edits) nil))
         (state (caret--next-edit-make :id (plist-get suggestion :id) :edits edits
                                       :jump (plist-get suggestion :jump)
                                       :reason (plist-get suggestion :reason)))
         (here (current-buffer))
         far-line)
    (dolist (edit edits)
      (let ((buffer (caret--uri-buffer (plist-get (plist-get edit :textDocument) :uri))))
        (with-current-buffer buffer
          (let* ((region (caret--range-region (plist-get edit :range)))
                 (overlay (make-overlay (car region) (cdr region) nil t nil))
                 (new-text (plist-get edit :newText)))
            (overlay-put overlay 'caret-next-edit t)
            (overlay-put overlay 'priority 900)
            (when (< (car region) (cdr region))
              (overlay-put overlay 'face 'caret-next-edit-deleted-face))
            (unless (string-empty-p new-text)
              (overlay-put overlay 'after-string
                           (propertize new-text 'face 'caret-next-edit-inserted-face)))
            (when (or (not (eq buffer here))
                      (> (abs (- (line-number-at-pos (car region)) (line-number-at-pos (point))))
                         caret-next-edit-inline-lines))
              (overlay-put overlay 'before-string
                           (propertize "!" 'display '(left-fringe right-arrow caret-next-edit-fringe-face)))
              (setq far-line (or far-line (format "%s:%d" (buffer-name buffer)
                                                  (line-number-at-pos (car region))))))
            (push (cons buffer overlay) (caret--next-edit-overlays state))))))
    (setq caret--next-edit state caret--next-edit-active t)
    (cond ((null edits)
           ;; Nothing to draw (no buffer holds the file yet): name the site quietly.
           (caret--message "→ %s%s, %s opens it" (caret--jump-label (caret--next-edit-jump state))
                           (if (caret--next-edit-reason state) (format " (%s)" (caret--next-edit-reason state)) "")
                           (caret--next-edit-key-hint)))
          (far-line
           (caret--message "next edit at %s%s (%s jumps there)" far-line
                           (if (caret--next-edit-reason state) (format ", %s" (caret--next-edit-reason state)) "")
                           (caret--next-edit-key-hint))))))

(defun caret--clear-next-edit ()
  "Remove the next-edit suggestion of this buffer, without telling the daemon."
  (when caret--next-edit
    (dolist (entry (caret--next-edit-overlays caret--next-edit))
      (delete-overlay (cdr entry)))
    (setq caret--next-edit nil caret--next-edit-active nil)))

(defun caret--reject-next-edit ()
  "Remove the next-edit suggestion and report it rejected."
  (when caret--next-edit
    (let ((id (caret--next-edit-id caret--next-edit)))
      (caret--clear-next-edit)
      (when (and id (caret--live-p) (caret--served-p "caret/nextEdit/didReject"))
        (jsonrpc-notify caret--connection :caret/nextEdit/didReject (list :id id))))))

(defun caret--next-edit-target (state)
  "Buffer and position where STATE's suggestion wants the cursor."
  (let* ((jump (caret--next-edit-jump state))
         (first (cl-find-if #'overlay-buffer (mapcar #'cdr (caret--next-edit-overlays state))
                            :from-end t)))
    (if jump
        (let ((buffer (caret--uri-buffer (plist-get jump :uri))))
          (and buffer (cons buffer (with-current-buffer buffer
                                     (caret--position-point (plist-get jump :position))))))
      (and first (cons (overlay-buffer first) (overlay-start first))))))

(defun caret--visit-jump (jump)
  "Visit JUMP's file, in `caret-mode', with point at JUMP's position.
The file need not be open yet: it is then visited, and opened in the
daemon like any buffer caret attaches to."
  (let* ((uri (plist-get jump :uri))
         (path (caret--uri-to-path uri))
         (buffer (or (caret--uri-buffer uri)
                     (and path (file-exists-p path) (find-file-noselect path))
                     (user-error "Cannot open %s" uri))))
    (push-mark nil t)
    (switch-to-buffer buffer)
    ;; The chain goes on from this buffer, so caret must manage it even
    ;; where `global-caret-mode' (or its modes list) did not turn it on;
    ;; turning it on sends didOpen.
    (unless caret-mode (caret-mode 1))
    ;; After `caret-mode': positions convert in the negotiated encoding.
    (goto-char (caret--position-point (plist-get jump :position)))))

(defun caret-next-edit-jump ()
  "Move to the next-edit suggestion without applying it.
For a suggestion in a file that is not open, visit that file there."
  (interactive)
  (let* ((state (or caret--next-edit (user-error "No next edit shown")))
         (target (caret--next-edit-target state)))
    (cond (target
           (push-mark nil t)
           (switch-to-buffer (car target))
           (goto-char (cdr target)))
          ((null (caret--next-edit-edits state)) (caret--visit-jump (caret--next-edit-jump state)))
          (t (user-error "Its buffer is gone")))))

(defun caret--notify-next-edit-accepted (state)
  "Tell the daemon STATE's suggestion was accepted."
  (when (and (caret--next-edit-id state) (caret--live-p) (caret--served-p "caret/nextEdit/didAccept"))
    (jsonrpc-notify caret--connection :caret/nextEdit/didAccept (list :id (caret--next-edit-id state)))))

(defun caret--accept-jump (state)
  "Accept STATE, a suggestion that only jumps: open its site, ask there.
The daemon could give no edit for a file that was not open; now that it
is open (and synced by `caret--visit-jump'), asking again gets the edit."
  (caret--clear-next-edit)
  (caret--visit-jump (caret--next-edit-jump state))
  (caret--notify-next-edit-accepted state)
  (caret--request-next-edit nil))

(defun caret-next-edit-accept ()
  "Jump to the next-edit suggestion and apply it; then ask for the next one.
A suggestion in a file that is not open yet opens that file at its site
instead, and the next one is asked for there."
  (interactive)
  (let ((state (or caret--next-edit (user-error "No next edit shown"))))
    (if (caret--next-edit-edits state)
        (caret--accept-edits state)
      (caret--accept-jump state))))

(defun caret--accept-edits (state)
  "Jump to STATE's edits and apply them; then ask for the next suggestion."
  (let* ((target (caret--next-edit-target state))
         (caret--inhibit-ghost-check t)
         (buffers nil)
         end)
    (unless (cl-every #'caret--edit-current-p (caret--next-edit-edits state))
      (caret--clear-next-edit)
      (user-error "The document changed; the suggestion was dropped"))
    (caret--clear-next-edit)
    (when (and target (not (eq (car target) (current-buffer))))
      (push-mark nil t)
      (switch-to-buffer (car target)))
    ;; Apply bottom-up per buffer so earlier edits do not move later ranges.
    (let ((regions (mapcar (lambda (edit)
                             (let ((buffer (caret--uri-buffer (plist-get (plist-get edit :textDocument) :uri))))
                               (with-current-buffer buffer
                                 (let ((region (caret--range-region (plist-get edit :range))))
                                   (list buffer (copy-marker (car region)) (copy-marker (cdr region) t)
                                         (plist-get edit :newText))))))
                           (caret--next-edit-edits state))))
      (dolist (entry regions)
        (pcase-let ((`(,buffer ,start ,stop ,text) entry))
          (with-current-buffer buffer
            (save-excursion
              (goto-char start)
              (delete-region start stop)
              (insert text))
            (when (eq buffer (current-buffer)) (setq end (or end (marker-position stop))))
            (cl-pushnew buffer buffers)))))
    (when end (goto-char end))
    (dolist (buffer buffers)
      (with-current-buffer buffer
        (setq caret--last-tick (buffer-chars-modified-tick))
        (caret--flush-changes)))
    (caret--notify-next-edit-accepted state)
    ;; Tab, tab, tab: the chain is the next request.
    (caret--request-next-edit nil)))

(defun caret-next-edit ()
  "Ask for a next-edit suggestion at point now."
  (interactive)
  (unless caret-mode (user-error "Caret-mode is off in this buffer"))
  (caret--clear-ghost)
  (unless (caret--request-next-edit t)
    (caret--message "the daemon does not predict next edits yet (or is not connected)")))

;;;; Apply and edit: a review buffer of streamed hunks

(defvar caret--apply-counter 0)

(defvar-local caret--review nil
  "Review state of an apply buffer: a plist with :hunks, :source, :status.")

(defvar caret-review-mode-map
  (let ((map (make-sparse-keymap)))
    ;; Later definitions are the ones the help line names.
    (define-key map (kbd "C-c ^ a") #'caret-review-accept-hunk)
    (define-key map (kbd "C-c ^ r") #'caret-review-reject-hunk)
    (define-key map (kbd "C-c ^ n") #'caret-review-next-hunk)
    (define-key map (kbd "C-c ^ p") #'caret-review-previous-hunk)
    (define-key map (kbd "TAB") #'caret-review-next-hunk)
    (define-key map (kbd "<backtab>") #'caret-review-previous-hunk)
    (define-key map (kbd "n") #'caret-review-next-hunk)
    (define-key map (kbd "p") #'caret-review-previous-hunk)
    (define-key map (kbd "k") #'caret-review-reject-hunk)
    (define-key map (kbd "r") #'caret-review-reject-hunk)
    (define-key map (kbd "a") #'caret-review-accept-hunk)
    (define-key map (kbd "u") #'caret-review-undo-hunk)
    (define-key map (kbd "A") #'caret-review-accept-all)
    (define-key map (kbd "R") #'caret-review-reject-all)
    (define-key map (kbd "o") #'caret-review-visit)
    (define-key map (kbd "RET") #'caret-review-visit)
    map)
  "Keys of the apply review buffer, after smerge and ediff.")

(define-derived-mode caret-review-mode special-mode "caret-review"
  "Review the hunks of a caret apply or edit.
\\<caret-review-mode-map>\\[caret-review-accept-hunk] accepts the hunk at point
\(applies it to its buffer), \\[caret-review-reject-hunk] rejects it,
\\[caret-review-undo-hunk] undoes either, \\[caret-review-accept-all] and
\\[caret-review-reject-all] decide every pending hunk, \\[caret-review-next-hunk]
and \\[caret-review-previous-hunk] move between hunks, \\[caret-review-visit] shows
the hunk in its buffer.  Dimmed hunks are low importance.
\\{caret-review-mode-map}"
  (setq truncate-lines t)
  (setq-local buffer-undo-list t))

(defun caret--review-hunks ()
  "The hunk records of the current review buffer, in display order."
  (plist-get caret--review :hunks))

(defun caret--review-add (hunks)
  "Add HUNKS (a sequence of protocol hunks) to the current review buffer."
  (let ((known (mapcar (lambda (record) (caret--hunk-key (plist-get record :hunk)))
                       (caret--review-hunks)))
        (records (caret--review-hunks)))
    (seq-doseq (hunk hunks)
      (unless (member (caret--hunk-key hunk) known)
        (push (caret--hunk-key hunk) known)
        (setq records (append records (list (caret--review-record hunk))))))
    (setq records (sort records (lambda (a b)
                                  (< (or (caret--hunk-get (plist-get a :hunk) :order) 0)
                                     (or (caret--hunk-get (plist-get b :hunk) :order) 0)))))
    (setq caret--review (plist-put caret--review :hunks records))
    (caret--review-render)))

(defun caret--review-record (hunk)
  "A review record for protocol HUNK, with markers in its source buffer."
  (let* ((uri (caret--hunk-get hunk :uri))
         (path (caret--uri-to-path uri))
         (buffer (or (caret--uri-buffer uri) (and path (file-exists-p path) (find-file-noselect path))))
         (range (caret--hunk-get hunk :oldRange :range))
         start end)
    (when (and buffer range)
      (with-current-buffer buffer
        (let ((region (caret--range-region range)))
          (setq start (copy-marker (car region)) end (copy-marker (cdr region) t)))))
    (list :hunk hunk :buffer buffer :start start :end end :status 'pending)))

(defun caret--review-render ()
  "Redraw the current review buffer, keeping point on the same hunk."
  (let ((inhibit-read-only t)
        (current (caret--review-index-at-point))
        (status (plist-get caret--review :status))
        (unresolved (plist-get caret--review :unresolved)))
    (erase-buffer)
    (insert (propertize (format "caret %s — %s%s\n" (plist-get caret--review :title) status
                                (let ((streamed (plist-get caret--review :streamed)))
                                  (if (and streamed (string-prefix-p "streaming" status))
                                      (format " (%d hunk%s so far)" streamed (if (= streamed 1) "" "s"))
                                    "")))
                        'face 'bold))
    (insert (substitute-command-keys
             "\\<caret-review-mode-map>\\[caret-review-accept-hunk] accept  \\[caret-review-reject-hunk] reject  \\[caret-review-undo-hunk] undo  \\[caret-review-accept-all] accept all  \\[caret-review-reject-all] reject all  \\[caret-review-next-hunk]/\\[caret-review-previous-hunk] move  \\[caret-review-visit] visit\n\n"))
    (let ((index 0))
      (dolist (record (caret--review-hunks))
        (caret--review-insert-hunk record index)
        (setq index (1+ index))))
    (when unresolved
      (insert (propertize "Unresolved (not applied; edit by hand):\n" 'face 'warning))
      (seq-doseq (entry unresolved)
        (insert (caret--review-unresolved-text entry))))
    (goto-char (point-min))
    (when current (caret--review-goto current))
    (unless current (caret--review-goto 0))))

(defun caret--review-unresolved-text (entry)
  "Text describing an unresolved ENTRY of an apply result."
  (let ((nearest (append (plist-get entry :nearest) nil)))
    (concat
     (format "  %s (%s): %s\n"
             (let ((path (caret--uri-to-path (or (plist-get entry :uri) ""))))
               (if path (file-name-nondirectory path) (or (plist-get entry :uri) "")))
             (or (plist-get entry :kind) "unresolved")
             (or (plist-get entry :message) "could not place this part"))
     (caret--diff-lines "  | " (or (plist-get entry :sketchText) ""))
     (if nearest
         (let ((best (car nearest)))
           (concat (format "  nearest lines (line %d, %d%% alike):\n"
                           (1+ (or (plist-get (plist-get (plist-get best :range) :start) :line) 0))
                           (round (* 100 (or (plist-get best :similarity) 0))))
                   (caret--diff-lines "  > " (or (plist-get best :text) ""))))
       ""))))

(defun caret--word-regions (words kind first-line line-starts)
  "Buffer regions of the WORDS of KIND, for lines starting at LINE-STARTS.
FIRST-LINE is the document line of the first of LINE-STARTS."
  (let (regions)
    (seq-doseq (word words)
      (when (equal (plist-get word :kind) kind)
        (let* ((range (plist-get word :range))
               (start (plist-get range :start)) (end (plist-get range :end))
               (from (nth (- (plist-get start :line) first-line) line-starts))
               (to (nth (- (plist-get end :line) first-line) line-starts)))
          (when (and from to)
            (push (cons (+ from (plist-get start :character)) (+ to (plist-get end :character)))
                  regions)))))
    regions))

(defun caret--review-insert-lines (prefix text face)
  "Insert TEXT as diff lines with PREFIX and FACE; return each line's text start."
  (let (starts)
    (unless (string-empty-p text)
      (dolist (line (split-string (string-remove-suffix "\n" text) "\n"))
        (insert (propertize prefix 'face face))
        (push (point) starts)
        (insert (propertize (concat line "\n") 'face face))))
    (nreverse starts)))

(defun caret--review-insert-hunk (record index)
  "Insert hunk RECORD, the INDEXth, into the review buffer."
  (let* ((hunk (plist-get record :hunk))
         (start (point))
         (range (caret--hunk-get hunk :oldRange :range))
         (line (1+ (or (plist-get (plist-get range :start) :line) 0)))
         (buffer (plist-get record :buffer))
         (low (equal (caret--hunk-get hunk :importance) "low"))
         (status (plist-get record :status)))
    (insert (propertize (format "@@ %s:%d%s%s @@\n"
                                (if buffer (buffer-name buffer) (caret--hunk-get hunk :uri))
                                line
                                (if low " (low importance)" "")
                                (pcase status ('accepted " [accepted]") ('rejected " [rejected]")
                                       ('stale " [stale: the buffer changed]") (_ "")))
                        'face 'caret-review-header-face))
    (let* ((body-start (point))
           (old-starts (caret--review-insert-lines "-" (or (caret--hunk-get hunk :oldText) "")
                                                   'caret-review-removed-face))
           (new-starts (caret--review-insert-lines "+" (or (caret--hunk-get hunk :newText) "")
                                                   'caret-review-added-face))
           (words (plist-get hunk :words))
           (new-line (or (plist-get (plist-get (plist-get hunk :newRange) :start) :line) 0)))
      (dolist (region (caret--word-regions words "delete" (1- line) old-starts))
        (add-face-text-property (car region) (min (cdr region) (point)) 'diff-refine-removed))
      (dolist (region (caret--word-regions words "insert" new-line new-starts))
        (add-face-text-property (car region) (min (cdr region) (point)) 'diff-refine-added))
      (when (or (and low caret-apply-dim-low-importance) (memq status '(accepted rejected)))
        (add-face-text-property body-start (point) 'caret-review-dimmed-face)))
    (put-text-property start (point) 'caret-hunk index)))

(defun caret--review-index-at-point ()
  "Index of the hunk at point, or nil."
  (get-text-property (point) 'caret-hunk))

(defun caret--review-goto (index)
  "Move to the header of hunk INDEX; nil when there is none."
  (let ((pos (point-min)) found)
    (while (and (not found) pos)
      (if (eql (get-text-property pos 'caret-hunk) index)
          (setq found pos)
        (setq pos (next-single-property-change pos 'caret-hunk))))
    (when found (goto-char found))))

(defun caret--review-record-at-point ()
  "The hunk record at point, or a user error."
  (let ((index (or (caret--review-index-at-point) (user-error "No hunk at point"))))
    (cons index (nth index (caret--review-hunks)))))

(defun caret--review-set-status (index status)
  "Set hunk INDEX's STATUS and redraw."
  (setf (plist-get (nth index (caret--review-hunks)) :status) status)
  (caret--review-render)
  (caret--review-goto index))

(defun caret--review-replace (record from to)
  "In RECORD's buffer, replace its region's text FROM with TO; nil when it differs."
  (let ((buffer (plist-get record :buffer)) (start (plist-get record :start)) (end (plist-get record :end)))
    (when (and (buffer-live-p buffer) start)
      (with-current-buffer buffer
        (when (equal (buffer-substring-no-properties start end) from)
          (save-excursion
            (goto-char start)
            (insert to)
            (delete-region (point) end)
            (set-marker end (point)))
          (caret--flush-changes)
          t)))))

(defun caret-review-accept-hunk ()
  "Apply the hunk at point to its buffer."
  (interactive)
  (pcase-let* ((`(,index . ,record) (caret--review-record-at-point))
               (hunk (plist-get record :hunk)))
    (unless (eq (plist-get record :status) 'pending)
      (user-error "This hunk is already %s" (plist-get record :status)))
    (if (caret--review-replace record (or (caret--hunk-get hunk :oldText) "") (or (caret--hunk-get hunk :newText) ""))
        (caret--review-set-status index 'accepted)
      (caret--review-set-status index 'stale)
      (user-error "The buffer no longer has this hunk's text; run the apply again"))
    (caret-review-next-hunk)))

(defun caret-review-reject-hunk ()
  "Leave the hunk at point out."
  (interactive)
  (pcase-let ((`(,index . ,record) (caret--review-record-at-point)))
    (unless (eq (plist-get record :status) 'pending)
      (user-error "This hunk is already %s" (plist-get record :status)))
    (caret--review-set-status index 'rejected)
    (caret-review-next-hunk)))

(defun caret-review-undo-hunk ()
  "Undo the decision on the hunk at point (an accepted hunk is reverted)."
  (interactive)
  (pcase-let* ((`(,index . ,record) (caret--review-record-at-point))
               (hunk (plist-get record :hunk)))
    (pcase (plist-get record :status)
      ('accepted
       (unless (caret--review-replace record (or (caret--hunk-get hunk :newText) "")
                                      (or (caret--hunk-get hunk :oldText) ""))
         (user-error "The buffer changed since; undo there instead"))
       (caret--review-set-status index 'pending))
      ('rejected (caret--review-set-status index 'pending))
      (_ (user-error "Nothing to undo on this hunk")))))

(defun caret--review-decide-all (command)
  "Run COMMAND on every pending hunk."
  (let ((index 0))
    (dolist (record (caret--review-hunks))
      (when (eq (plist-get record :status) 'pending)
        (caret--review-goto index)
        (condition-case err (funcall command) (user-error (message "%s" (error-message-string err)))))
      (setq index (1+ index)))))

(defun caret-review-accept-all ()
  "Accept every pending hunk."
  (interactive)
  (caret--review-decide-all #'caret-review-accept-hunk))

(defun caret-review-reject-all ()
  "Reject every pending hunk."
  (interactive)
  (caret--review-decide-all #'caret-review-reject-hunk))

(defun caret-review-next-hunk ()
  "Move to the next hunk."
  (interactive)
  (let ((index (caret--review-index-at-point)))
    (unless (caret--review-goto (if index (1+ index) 0))
      (when index (caret--review-goto index)))))

(defun caret-review-previous-hunk ()
  "Move to the previous hunk."
  (interactive)
  (let ((index (caret--review-index-at-point)))
    (when (and index (> index 0)) (caret--review-goto (1- index)))))

(defun caret-review-visit ()
  "Show the hunk at point in its buffer."
  (interactive)
  (pcase-let ((`(,_ . ,record) (caret--review-record-at-point)))
    (unless (buffer-live-p (plist-get record :buffer)) (user-error "Its buffer is gone"))
    (pop-to-buffer (plist-get record :buffer))
    (when (plist-get record :start) (goto-char (plist-get record :start)))))

(defun caret--review-open (title)
  "Create and show a review buffer titled TITLE; return it."
  (let ((buffer (generate-new-buffer (format "*caret %s*" title))))
    (with-current-buffer buffer
      (caret-review-mode)
      (setq caret--review (list :title title :status "streaming…" :hunks nil))
      (caret--review-render))
    (display-buffer buffer)
    buffer))

(defun caret--review-request (method params title)
  "Send METHOD with PARAMS, streaming hunks into a review buffer titled TITLE."
  (unless (caret--prepare-request) (user-error "Not connected to the daemon yet; try again"))
  (unless (caret--served-p (substring (symbol-name method) 1))
    (user-error "This daemon does not serve %s yet" (substring (symbol-name method) 1)))
  (let* ((token (format "caret.el-apply-%d" (cl-incf caret--apply-counter)))
         (review (caret--review-open title))
         (done (lambda (status)
                 (remhash token caret--progress-handlers)
                 (when (buffer-live-p review)
                   (with-current-buffer review
                     (setq caret--review (plist-put caret--review :status status))
                     (caret--review-render))))))
    (puthash token (lambda (value)
                     (when (buffer-live-p review)
                       (with-current-buffer review
                         ;; Counted so the header can say how far the stream got.
                         (setq caret--review (plist-put caret--review :streamed
                                                        (+ (length value) (or (plist-get caret--review :streamed) 0))))
                         (caret--review-add value))))
             caret--progress-handlers)
    (jsonrpc-async-request
     caret--connection method (append params (list :partialResultToken token))
     :timeout caret-apply-timeout
     :success-fn (lambda (result)
                   (when (buffer-live-p review)
                     (with-current-buffer review
                       (setq caret--review (plist-put caret--review :unresolved
                                                      (append (plist-get result :unresolved) nil)))
                       (caret--review-add (or (plist-get result :hunks) []))))
                   (funcall done (let ((count (length (plist-get result :hunks))))
                                   (format "%d hunk%s%s" count (if (= count 1) "" "s")
                                           (if (> (length (plist-get result :unresolved)) 0)
                                               ", some unresolved" "")))))
     :error-fn (lambda (error)
                 (funcall done (format "failed: %s" (plist-get error :message)))
                 (caret--message "%s" (plist-get error :message)))
     :timeout-fn (lambda () (funcall done "timed out")))
    review))

(defun caret--read-target-buffer ()
  "Read the caret buffer a sketch is for."
  (let* ((other (window-buffer (next-window)))
         (default (if (buffer-local-value 'caret-mode other) other (current-buffer))))
    (get-buffer (read-buffer "Apply to buffer: " default t
                             (lambda (entry)
                               (let ((buffer (get-buffer (if (consp entry) (car entry) entry))))
                                 (and buffer (buffer-local-value 'caret-mode buffer))))))))

(defun caret-apply (sketch &optional target instruction)
  "Apply SKETCH, a code block that may elide unchanged code, to TARGET.
TARGET defaults to the current buffer; INSTRUCTION optionally says
what the sketch is for.  Hunks stream into a review buffer."
  (let ((target (or target (current-buffer))))
    (with-current-buffer target
      (unless caret-mode (user-error "Caret-mode is off in %s" (buffer-name target)))
      (caret--review-request :caret/apply
                             (append (list :files (vector (list :textDocument (list :uri caret--uri :version caret--version)
                                                                :sketch sketch))
                                           :strategy "auto")
                                     (and instruction (list :instruction instruction)))
                             (format "apply to %s" (buffer-name target))))))

(defun caret-apply-kill (&optional target)
  "Apply the sketch at the front of the kill ring to TARGET (this buffer)."
  (interactive)
  (caret-apply (or (current-kill 0 t) (user-error "The kill ring is empty")) target))

(defun caret-apply-region (beg end target)
  "Apply the region BEG..END as a sketch to TARGET, which is asked for."
  (interactive (list (region-beginning) (region-end) (caret--read-target-buffer)))
  (caret-apply (buffer-substring-no-properties beg end) target))

(defun caret-edit (beg end instruction)
  "Ask the daemon to rewrite BEG..END following INSTRUCTION, for review."
  (interactive (list (region-beginning) (region-end) (read-string "Edit instruction: ")))
  (unless caret-mode (user-error "Caret-mode is off in this buffer"))
  (caret--review-request :caret/edit
                         (list :textDocument (caret--text-document)
                               :range (list :start (caret--lsp-position beg) :end (caret--lsp-position end))
                               :instruction instruction)
                         (format "edit of %s" (buffer-name))))

;;;; Search through xref

(defun caret--search-results (result)
  "The result list of a `caret/search' RESULT."
  (append (if (and (consp result) (plist-member result :results)) (plist-get result :results) result) nil))

(defun caret--result-xref (result)
  "An xref item for one search RESULT."
  (let* ((uri (plist-get result :uri))
         (path (or (caret--uri-to-path uri) uri))
         (start (plist-get (plist-get result :range) :start))
         (line (1+ (or (plist-get start :line) 0)))
         ;; The snippet is the matching line with a line of context either side.
         (lines (split-string (or (plist-get result :snippet) "") "\n"))
         (snippet (string-trim (or (nth (if (and (> line 1) (cdr lines)) 1 0) lines) "")))
         (symbol (plist-get result :symbol))
         (summary (cond ((and symbol (not (string-empty-p snippet))) (format "%s  — %s" snippet symbol))
                        ((not (string-empty-p snippet)) snippet)
                        (symbol symbol)
                        (t (file-name-nondirectory path)))))
    (xref-make summary (xref-make-file-location path line (or (plist-get start :character) 0)))))

(defun caret--search-request (query extra)
  "Search the code base for QUERY with EXTRA params; return the raw results."
  (unless (caret--prepare-request) (user-error "Not connected to the daemon yet; try again"))
  (unless (caret--served-p "caret/search") (user-error "This daemon does not serve caret/search yet"))
  (caret--search-results
   (jsonrpc-request caret--connection :caret/search
                    (append (list :query query :limit caret-search-limit)
                            (and caret-search-mode (list :mode caret-search-mode))
                            extra)
                    :timeout caret-request-timeout)))

(defun caret--search (query &optional extra)
  "Search the code base for QUERY with EXTRA params; return xref items."
  (mapcar #'caret--result-xref (caret--search-request query extra)))

(defun caret-search (query)
  "Search the code base for QUERY and list the hits in an xref buffer."
  (interactive (list (read-string "caret search: " (thing-at-point 'symbol t))))
  (let ((xrefs (caret--search query)))
    (unless xrefs (user-error "Nothing found for %s" query))
    ;; The public entry point `xref-show-xrefs' is Emacs 29+; this variable is the
    ;; same path and exists in Emacs 28.
    (funcall xref-show-xrefs-function (lambda () xrefs) '((window . nil)))))

(defun caret-xref-backend ()
  "The caret xref backend, in caret buffers with no language server."
  (and caret-mode caret-use-xref
       (not (bound-and-true-p eglot--managed-mode))
       (not (bound-and-true-p lsp-mode))
       'caret))

(cl-defmethod xref-backend-identifier-at-point ((_backend (eql caret)))
  "The symbol at point."
  (thing-at-point 'symbol t))

(cl-defmethod xref-backend-identifier-completion-table ((_backend (eql caret)))
  "No completion table: any text is a query."
  nil)

(cl-defmethod xref-backend-definitions ((_backend (eql caret)) identifier)
  "Definitions named IDENTIFIER from the index's symbol table."
  (if (not (caret--served-p "caret/symbols"))
      (caret--search identifier)
    (unless (caret--prepare-request) (user-error "Not connected to the caret daemon yet; try again"))
    (let* ((symbols (append (plist-get (jsonrpc-request caret--connection :caret/symbols
                                                        (list :query identifier :limit caret-search-limit)
                                                        :timeout caret-request-timeout)
                                       :symbols)
                            nil))
           (exact (cl-remove-if-not (lambda (s) (equal (plist-get s :name) identifier)) symbols)))
      (mapcar (lambda (symbol)
                (let* ((location (plist-get symbol :location))
                       (start (plist-get (plist-get location :range) :start)))
                  (xref-make (if (plist-get symbol :containerName)
                                 (format "%s (in %s)" (plist-get symbol :name) (plist-get symbol :containerName))
                               (plist-get symbol :name))
                             (xref-make-file-location (or (caret--uri-to-path (plist-get location :uri))
                                                          (plist-get location :uri))
                                                      (1+ (plist-get start :line))
                                                      (plist-get start :character)))))
              (or exact symbols)))))

(cl-defmethod xref-backend-references ((_backend (eql caret)) identifier)
  "Every search hit for IDENTIFIER."
  (caret--search identifier (list :mode "lexical")))

(cl-defmethod xref-backend-apropos ((_backend (eql caret)) pattern)
  "Search hits for PATTERN."
  (caret--search pattern))

;;;; Doctor

(defun caret--doctor-lines (entries)
  "Format each doctor report entry of ENTRIES (plists) as text lines."
  (mapconcat
   (lambda (check)
     (let ((status (plist-get check :status)))
       (concat (propertize (pcase status ("ok" "  ok   ") ("warn" "  warn ") (_ "  ERROR"))
                           'face (pcase status ("ok" 'success) ("warn" 'warning) (_ 'error)))
               " " (plist-get check :name) ": " (plist-get check :detail) "\n"
               (if (plist-get check :fix) (format "         fix: %s\n" (plist-get check :fix)) ""))))
   entries ""))

(defun caret--client-checks ()
  "Return what Emacs itself can tell about the set-up, as doctor entries."
  (let ((program (executable-find (car caret-command))))
    (list
     (list :name "emacs" :status (if (version<= "28.1" emacs-version) "ok" "error")
           :detail (format "Emacs %s, caret.el %s" emacs-version caret-version))
     (list :name "command" :status (if program "ok" "error")
           :detail (format "%s -> %s" (mapconcat #'identity caret-command " ") (or program "not found"))
           :fix (unless program "Install caret (npm install -g caret) or set `caret-command'."))
     (list :name "connection" :status (if (caret--live-p) "ok" "error")
           :detail (if (caret--live-p)
                       (format "connected (%s positions, %d roots)" caret--encoding (length caret--roots))
                     (format "%s" caret--state))
           :fix (unless (caret--live-p) "See *caret stderr* and *caret log*; M-x caret-restart.")))))

(defun caret-doctor ()
  "Show the health report of the daemon, and of Emacs's side first."
  (interactive)
  (unless (caret--live-p)
    (caret--ensure-connection)
    (with-timeout (15 nil)
      (while (eq caret--state 'connecting) (accept-process-output nil 0.05))))
  (let* ((daemon (condition-case err
                     (if (caret--live-p)
                         (plist-get (jsonrpc-request caret--connection :caret/doctor nil
                                                     :timeout caret-request-timeout)
                                    :checks)
                       [])
                   (jsonrpc-error (vector (list :name "daemon" :status "error"
                                                :detail (format "%s" (cdr err)))))))
         (buffer (get-buffer-create "*caret doctor*")))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (propertize "caret doctor\n\n" 'face 'bold))
        (insert "Emacs:\n" (caret--doctor-lines (caret--client-checks)) "\n")
        (insert "Daemon:\n" (if (> (length daemon) 0) (caret--doctor-lines daemon) "  (not reachable)\n")))
      (special-mode))
    (display-buffer buffer)
    buffer))

(defun caret-show-log ()
  "Show the *caret log* buffer."
  (interactive)
  (display-buffer (get-buffer-create "*caret log*")))

;;;; Modes

(defvar caret-command-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "c") #'caret-complete)
    (define-key map (kbd "n") #'caret-next-edit)
    (define-key map (kbd "j") #'caret-next-edit-jump)
    (define-key map (kbd "a") #'caret-apply-kill)
    (define-key map (kbd "r") #'caret-apply-region)
    (define-key map (kbd "e") #'caret-edit)
    (define-key map (kbd "s") #'caret-search)
    (define-key map (kbd "d") #'caret-doctor)
    (define-key map (kbd "l") #'caret-show-log)
    (define-key map (kbd "R") #'caret-restart)
    map)
  "Keymap of caret's commands, under `caret-keymap-prefix' in `caret-mode'.")

(defvar caret-mode-map (make-sparse-keymap)
  "Keymap of `caret-mode': `caret-command-map' under `caret-keymap-prefix'.")

(defcustom caret-keymap-prefix "C-c ^"
  "Prefix key of `caret-command-map' in `caret-mode' buffers, or nil for none."
  :type '(choice (const :tag "None" nil) string)
  :set (lambda (symbol value)
         (when (and (boundp symbol) (symbol-value symbol))
           (define-key caret-mode-map (kbd (symbol-value symbol)) nil))
         (set-default symbol value)
         (when value (define-key caret-mode-map (kbd value) caret-command-map))))

(defvar caret--emulation-alist
  `((caret--ghost-active . ,caret-ghost-map)
    (caret--next-edit-active . ,caret-next-edit-map))
  "Keymaps active while a suggestion is shown; above other minor modes' keys.")

;;;###autoload
(define-minor-mode caret-mode
  "AI-assisted editing through the caret daemon in this buffer.
Ghost text appears while typing; \\<caret-ghost-map>\\[caret-accept] accepts it.
Next-edit suggestions appear after edits; \\<caret-next-edit-map>\\[caret-next-edit-accept] jumps and applies.
\\<caret-mode-map>Other commands sit under `caret-keymap-prefix':
\\{caret-command-map}"
  :lighter (:eval caret--lighter-text)
  :keymap caret-mode-map
  (if caret-mode
      (progn
        (add-to-list 'emulation-mode-map-alists 'caret--emulation-alist)
        (setq caret--uri (if buffer-file-name
                             (caret--path-to-uri buffer-file-name)
                           (format "untitled:%s" (url-hexify-string (buffer-name))))
              caret--opened nil
              caret--last-tick (buffer-chars-modified-tick))
        (add-hook 'before-change-functions #'caret--before-change nil t)
        (add-hook 'after-change-functions #'caret--after-change nil t)
        (add-hook 'post-command-hook #'caret--post-command nil t)
        (add-hook 'after-save-hook #'caret--after-save nil t)
        (add-hook 'kill-buffer-hook #'caret--buffer-killed nil t)
        (add-hook 'change-major-mode-hook #'caret--buffer-killed nil t)
        (add-hook 'xref-backend-functions #'caret-xref-backend -10 t)
        (unless caret--lighter-text (caret--update-lighter))
        (when (caret--ensure-connection)
          (caret--open-document)))
    (caret--buffer-killed)
    (remove-hook 'before-change-functions #'caret--before-change t)
    (remove-hook 'after-change-functions #'caret--after-change t)
    (remove-hook 'post-command-hook #'caret--post-command t)
    (remove-hook 'after-save-hook #'caret--after-save t)
    (remove-hook 'kill-buffer-hook #'caret--buffer-killed t)
    (remove-hook 'change-major-mode-hook #'caret--buffer-killed t)
    (remove-hook 'xref-backend-functions #'caret-xref-backend t)))

(defun caret--buffer-killed ()
  "Forget this buffer's suggestions and close it in the daemon."
  (caret--clear-ghost)
  (caret--clear-next-edit)
  (caret--close-document))

(defun caret--turn-on ()
  "Turn on `caret-mode' in file buffers of `caret-global-modes'."
  (when (and buffer-file-name
             (not (minibufferp))
             (apply #'derived-mode-p caret-global-modes))
    (caret-mode 1)))

;;;###autoload
(define-globalized-minor-mode global-caret-mode caret-mode caret--turn-on
  :group 'caret)

(provide 'caret)
;;; caret.el ends here
