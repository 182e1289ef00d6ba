#ifndef TESTS_SCRATCH_H
#define TESTS_SCRATCH_H

/*
 * A scratch home for a unit test that opens a real store: a new folder
 * under /tmp named after the test, made HOME, XDG_DATA_HOME and
 * XDG_CONFIG_HOME and the current directory, with the variables that
 * pick a database or change the markers unset, so the store is a new
 * embedded SQLite file there. scratch_remove() removes it.
 * Returns the folder (owned), or NULL.
 */
char *scratch_home(const char *name);
void scratch_remove(char *dir);

#endif
