#!/bin/sh
# Write fuzz/corpus/elf_symbols/tiny-so: a small shared object defining two of the C API
# functions attach looks up, so the fuzzer starts from a real ELF file's every table.
# usage: sh fuzz/make_elf_seed.sh   (needs gcc)
set -e
dir=$(dirname "$0")
src=$(mktemp --suffix=.c)
printf 'int PyGILState_Ensure(void) { return 1; }\nint PyRun_SimpleString(const char *s) { return s[0]; }\n' > "$src"
gcc -shared -fPIC -O1 -o "$dir/corpus/elf_symbols/tiny-so" "$src"
rm -f "$src"
