// Package nginxconf reads nginx configuration text by nginx's own rules:
// the tokenizer of ngx_conf_read_token (whitespace, ';', '{' and '}'; a
// '}' inside a word is part of it; '#' starts a comment at the start of a
// word; "..." and '...' only at the start of a word, with backslash
// escapes; a '{' right after '$' belongs to the word) and, for the
// *_by_lua_block directives, the Lua code reader of lua-nginx-module
// (strings, long brackets and comments hide braces).
//
// Contract: it is the one place Portico decides where nginx sees a
// directive or a block end. The model checks operator-written nginx text
// (snippets) with ParseSnippet before it can reach nginx.conf; tests read
// rendered configs with Parse. Its agreement with the nginx binary is
// fuzzed (FuzzSnippetAgainstNginx). Pure: no I/O.
package nginxconf
