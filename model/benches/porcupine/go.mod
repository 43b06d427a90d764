module replsim/porcupine-check

go 1.19

require github.com/anishathalye/porcupine v0.0.0

// Porcupine is not vendored and this host cannot reach the Go module proxy: put (or symlink)
// a checkout of https://github.com/anishathalye/porcupine at ./porcupine-src (see README.md).
replace github.com/anishathalye/porcupine => ./porcupine-src
