/* The schema as the store shows it: the migrate command's calls. */
#include "store/db.h"
#include "store/migrations.h"
#include "store/store.h"

int store_schema_latest(void)
{
	return MIGRATIONS_LATEST;
}

int store_schema_version(struct store *st, int *version, int *dirty)
{
	return migrations_current(store_db(st), version, dirty);
}

int store_migrate_up(struct store *st, int *applied)
{
	return migrations_up(store_db(st), applied);
}

int store_migrate_down(struct store *st, int steps, int *reverted)
{
	return migrations_down(store_db(st), steps, reverted);
}

int store_migrate_force(struct store *st, int version)
{
	return migrations_force(store_db(st), version);
}

int store_migrate_reset(struct store *st)
{
	return migrations_reset(store_db(st));
}
