#ifndef STORE_MIGRATIONS_H
#define STORE_MIGRATIONS_H

#include "store/db.h"

/*
 * The schema, embedded. Versions 1..11 are the original's (golang-migrate
 * numbering, same schema_migrations(version, dirty) table), so a
 * PostgreSQL database created by the original migrates forward.
 */

struct migration {
	int version;
	const char *name;
	const char *pg_up, *pg_down;
	const char *lite_up, *lite_down; /* NULL: same SQL as PostgreSQL */
};

extern const struct migration migrations[];
extern const int migrations_nr;
#define MIGRATIONS_LATEST (migrations[migrations_nr - 1].version)

/* 0 when schema_migrations is missing; *dirty set from the table */
int migrations_current(struct db *db, int *version, int *dirty);
/* apply pending migrations; *applied counts them (may be NULL) */
int migrations_up(struct db *db, int *applied);
/* revert steps migrations (all when steps <= 0) */
int migrations_down(struct db *db, int steps, int *reverted);
int migrations_force(struct db *db, int version);
/* drop task-sync's own tables (and nothing else), then migrate up */
int migrations_reset(struct db *db);

#endif
