// Package filewatch tells its caller when files change on disk: once per
// change, with their new content, never on each use of a file.
//
// Contract: a Watcher watches a set of file paths (Set) by watching their
// directories with inotify (fsnotify), never the files themselves, so it
// follows the way Kubernetes updates Secret and ConfigMap volumes: the
// atomic writer writes a new `..<timestamp>` directory and renames a
// `..data_tmp` symlink over `..data`, and the visible files, symlinks into
// `..data`, never change themselves. A file may be absent at start, be
// removed and come back, and its directory too: the nearest existing
// ancestor is watched meanwhile. Events are debounced: a burst of writes
// gives one callback. A file is reported when what reading it gives (its
// bytes, or that it cannot be read) differs from what was last reported,
// so a burst that ends where it began reports nothing. Where inotify is
// unavailable (no inotify instance or watch left, such as at the kernel's
// limit) every file is read again each Options.Poll instead, and a Warning
// says so. The package knows no Kubernetes types.
package filewatch
