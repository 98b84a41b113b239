// File name -> language, and which languages have a tree-sitter grammar in
// @vscode/tree-sitter-wasm. Every grammar it ships that parses whole files is used; its `regex`
// grammar parses regular-expression literals, not files, so no file maps to it.

/** Grammar file stem (tree-sitter-<stem>.wasm) for each language with one. */
export const GRAMMARS: Readonly<Record<string, string>> = {
  typescript: 'typescript',
  typescriptreact: 'tsx',
  javascript: 'javascript',
  javascriptreact: 'javascript',
  python: 'python',
  go: 'go',
  rust: 'rust',
  java: 'java',
  c: 'cpp',
  cpp: 'cpp',
  csharp: 'c-sharp',
  php: 'php',
  ruby: 'ruby',
  shellscript: 'bash',
  css: 'css',
  powershell: 'powershell',
  ini: 'ini',
};

// Language ids follow VS Code's (what editors send in didOpen), so `languages` filters match.
const BY_EXTENSION: Readonly<Record<string, string>> = {
  ts: 'typescript', mts: 'typescript', cts: 'typescript',
  tsx: 'typescriptreact',
  js: 'javascript', mjs: 'javascript', cjs: 'javascript',
  jsx: 'javascriptreact',
  py: 'python', pyi: 'python', pyw: 'python',
  go: 'go',
  rs: 'rust',
  java: 'java',
  c: 'c', h: 'c',
  cc: 'cpp', cpp: 'cpp', cxx: 'cpp', hpp: 'cpp', hh: 'cpp', hxx: 'cpp', ipp: 'cpp',
  cs: 'csharp',
  php: 'php',
  rb: 'ruby', rake: 'ruby', gemspec: 'ruby',
  sh: 'shellscript', bash: 'shellscript', zsh: 'shellscript',
  css: 'css',
  ps1: 'powershell', psm1: 'powershell', psd1: 'powershell',
  ini: 'ini', cfg: 'ini', editorconfig: 'ini',
  md: 'markdown', markdown: 'markdown',
  json: 'json', jsonc: 'jsonc',
  yaml: 'yaml', yml: 'yaml',
  toml: 'toml',
  html: 'html', htm: 'html',
  xml: 'xml', svg: 'xml',
  scss: 'scss', less: 'less',
  sql: 'sql',
  lua: 'lua',
  el: 'emacs-lisp',
  vim: 'vim',
  kt: 'kotlin', kts: 'kotlin',
  swift: 'swift',
  scala: 'scala',
  txt: 'plaintext',
};

const BY_NAME: Readonly<Record<string, string>> = {
  Makefile: 'makefile',
  Dockerfile: 'dockerfile',
  Gemfile: 'ruby',
  Rakefile: 'ruby',
  '.bashrc': 'shellscript',
  '.zshrc': 'shellscript',
};

export function languageOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const byName = BY_NAME[name];
  if (byName) return byName;
  const dot = name.lastIndexOf('.');
  if (dot < 0) return 'plaintext';
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? 'plaintext';
}

export const grammarOf = (language: string): string | undefined => GRAMMARS[language];
