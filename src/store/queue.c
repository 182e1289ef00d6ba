/*
 * The work queue on PostgreSQL (store.h, docs/workers.md): rows of
 * work_items claimed with FOR UPDATE SKIP LOCKED; every change of a
 * running item names the owner and epoch it expects.
 */
#include "store/store.h"
#include "os/error.h"
#include "os/strbuf.h"
#include "os/xalloc.h"
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a running item whose owner stopped heartbeating: claimable again */
#define EXPIRED(t)                                                   \
	"(" t ".state = 'running' AND " t ".heartbeat_at < now() - " \
	"" t ".lease_ms * interval '1 millisecond')"

/*
 * The channel idle workers LISTEN on: whatever may make an item
 * claimable (or end a --once worker's wait) NOTIFYs it in its
 * transaction, so the wake-up comes with the commit.
 */
#define CHANNEL "task_sync_work"
#define NOTIFY "pg_notify('" CHANNEL "', '')"

static int refuse(const struct store *st)
{
	if (store_queue_supported(st))
		return 0;
	return error("the work queue needs PostgreSQL (DATABASE_URL); this "
		     "database is SQLite");
}

static void ll(char buf[32], long long v)
{
	snprintf(buf, 32, "%lld", v);
}

/* "{1,2,3}", or NULL for none (owned) */
static char *id_array(const long long *v, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (!n)
		return NULL;
	strbuf_addch(&sb, '{');
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%lld", i ? "," : "", v[i]);
	strbuf_addch(&sb, '}');
	return strbuf_detach(&sb, NULL);
}

void work_item_release(struct work_item *w)
{
	free(w->candidate);
	free(w->reclaimed_from);
	memset(w, 0, sizeof(*w));
}

int store_queue_supported(const struct store *st)
{
	return !strcmp(store_backend_name(st), "postgres");
}

static int one_number(struct store *st, const char *sql, int np,
		      const char *const *p, long long *n)
{
	struct db_res *r = NULL;

	if (db_query(store_db(st), sql, np, p, &r))
		return TS_EFAIL;
	*n = r->nrows && db_res_get(r, 0, 0) ? atoll(db_res_get(r, 0, 0)) : 0;
	db_res_free(r);
	return 0;
}

/*
 * refused on SQLite, else the first number sql gives with $1 = v (a
 * statement that changes rows counts them: RETURNING in a WITH)
 */
static int number_of(struct store *st, const char *sql, long long v,
		     long long *n)
{
	char b[32];
	const char *p[1] = { b };

	if (refuse(st))
		return TS_EFAIL;
	ll(b, v);
	return one_number(st, sql, 1, p, n);
}

int store_queue_open_items(struct store *st, long long task_id, long long *n)
{
	return number_of(st,
			 "SELECT count(*) FROM work_items WHERE task_id = $1 "
			 "AND state IN ('queued', 'running')",
			 task_id, n);
}

int store_queue_session(struct store *st, int ms)
{
	long long set = 0;

	if (number_of(st,
		      "SELECT set_config('idle_in_transaction_session_"
		      "timeout', $1, false)",
		      ms, &set) ||
	    db_exec_script(store_db(st), "LISTEN " CHANNEL))
		return TS_EFAIL;
	return 0;
}

int store_queue_wait(struct store *st, int ms)
{
	struct db *db = store_db(st);
	int r;

	if (refuse(st) || !db->ops->wait_notify)
		return TS_EFAIL;
	r = db->ops->wait_notify(db, ms);
	return r < 0 ? TS_EFAIL : r;
}

int store_queue_batch(struct store *st, long long *batch)
{
	if (refuse(st))
		return TS_EFAIL;
	return one_number(st, "SELECT nextval('work_batches')", 0, NULL, batch);
}

int store_queue_add(struct store *st, long long batch, long long task_id,
		    long long step_id, const char *candidate, unsigned flags,
		    const long long *deps, size_t ndeps)
{
	char b[32], t[32], s[32], f[32];
	char *d = id_array(deps, ndeps);
	const char *p[6] = { b, t, s, candidate, f, d ? d : "{}" };
	int ret;

	if (refuse(st)) {
		free(d);
		return TS_EFAIL;
	}
	ll(b, batch);
	ll(t, task_id);
	ll(s, step_id);
	ll(f, flags);
	ret = db_exec(store_db(st),
		      "WITH i AS (INSERT INTO work_items (batch, task_id, "
		      "step_id, candidate, flags, deps) VALUES ($1, $2, $3, "
		      "$4, $5, $6::bigint[]) RETURNING 1) SELECT " NOTIFY
		      " FROM i",
		      6, p, NULL);
	free(d);
	return ret ? TS_EFAIL : 0;
}

/*
 * store_queue_claim's statement, three picks in turn, each taken only
 * when the ones before found nothing: e, the first running item whose
 * claim expired (its worker died: taken over first); h, the first
 * claimable queued item of a task whose image ($5) the worker holds
 * (held); a, the first claimable queued item. Each is a MATERIALIZED
 * CTE: evaluated once, so one claim takes one row (a subquery joined in
 * FROM may be scanned again, and with SKIP LOCKED each scan can lock
 * another row). h tests the task with an array, not a join the planner
 * could turn into a sort of every claimable item. u claims what was
 * picked, and says how long a reclaimed item's owner had been silent.
 * When it claimed nothing, one row of NULLs but next_ms: how long, by
 * this statement's now(), until the first running item in scope that is
 * not yet expired will be (its last heartbeat plus its lease, and 1 ms:
 * EXPIRED is strict), so an idle worker claims it then.
 */
/* clang-format off */
#define IN_SCOPE "(($4::bigint[]) IS NULL OR c.task_id = ANY($4::bigint[]))"
#define READY \
	"c.state = 'queued' AND NOT EXISTS (SELECT 1 FROM work_items d " \
	"WHERE d.batch = c.batch AND d.step_id = ANY(c.deps) AND " \
	"d.state <> 'succeeded')"
/*
 * READY or EXPIRED, as one OR: the planner then keeps the dependency
 * test a subplan run on the rows in ID order until one passes; READY
 * alone it turns into an anti join over every queued item, then sorted
 */
#define CLAIMABLE "((" READY ") OR " EXPIRED("c") ")"
#define PICK "SELECT c.id, c.state AS old_state, c.owner AS old_owner, " \
	"c.heartbeat_at AS old_beat FROM work_items c WHERE " IN_SCOPE " AND "
#define PICK_END " ORDER BY c.id LIMIT 1 FOR UPDATE SKIP LOCKED), "
#define CLAIM_SQL \
	"WITH e AS MATERIALIZED (" PICK EXPIRED("c") PICK_END \
	"held AS MATERIALIZED (SELECT k.id FROM tasks k WHERE " \
	"$5::text[] IS NOT NULL AND COALESCE(jsonb_path_query_first(" \
	"k.settings, '$.containers_map.*.image_id'), " \
	"k.settings->'docker'->'image_id') #>> '{}' = ANY($5::text[])), " \
	"h AS MATERIALIZED (" PICK "$5::text[] IS NOT NULL AND " \
	"NOT EXISTS (SELECT 1 FROM e) AND EXISTS (SELECT 1 FROM held) AND " \
	"c.task_id = ANY(ARRAY(SELECT id FROM held)) AND " CLAIMABLE PICK_END \
	"a AS MATERIALIZED (" PICK "NOT EXISTS (SELECT 1 FROM e) AND " \
	"NOT EXISTS (SELECT 1 FROM h) AND " CLAIMABLE PICK_END \
	"pick AS (SELECT * FROM e UNION ALL SELECT * FROM h UNION ALL " \
	"SELECT * FROM a), " \
	"u AS (UPDATE work_items w SET state = 'running', owner = $1, " \
	"host = $2, epoch = w.epoch + 1, lease_ms = $3, claimed_at = now(), " \
	"heartbeat_at = now(), attempts = w.attempts + 1 FROM pick " \
	"WHERE w.id = pick.id AND (w.state = 'queued' OR " EXPIRED("w") ") " \
	"RETURNING w.id, w.batch, w.task_id, w.step_id, w.epoch, " \
	"w.candidate, w.flags, pick.old_state, pick.old_owner, " \
	"(EXTRACT(EPOCH FROM now() - pick.old_beat) * 1000)::bigint " \
	"AS silent_ms) " \
	"SELECT *, NULL::bigint AS next_ms FROM u UNION ALL " \
	"SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " \
	"(SELECT (floor(EXTRACT(EPOCH FROM min(c.heartbeat_at + c.lease_ms " \
	"* interval '1 millisecond') - now()) * 1000) + 1)::bigint FROM " \
	"work_items c WHERE c.state = 'running' AND " IN_SCOPE " AND NOT " \
	EXPIRED("c") ") WHERE NOT EXISTS (SELECT 1 FROM u)"
/* clang-format on */

int store_queue_claim(struct store *st, const char *owner, const char *host,
		      int lease_ms, const long long *tasks, size_t ntasks,
		      const char *images, struct work_item *out,
		      long long *next_ms)
{
	char lease[32];
	char *t = id_array(tasks, ntasks);
	const char *p[5] = { owner, host, lease, t, images };
	struct db_res *r = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	*next_ms = -1;
	if (refuse(st)) {
		free(t);
		return TS_EFAIL;
	}
	ll(lease, lease_ms);
	/* prepared once per connection: a claim is planned, not parsed */
	if (db_query_named(store_db(st), "task_sync_claim", CLAIM_SQL, 5, p,
			   &r)) {
		free(t);
		return TS_EFAIL;
	}
	free(t);
	if (r->nrows && !db_res_get(r, 0, 0)) {
		/* nothing claimed: when the next lease may expire */
		const char *next = db_res_get(r, 0, 10);
		if (next)
			*next_ms = atoll(next) > 0 ? atoll(next) : 1;
	} else if (r->nrows) {
		const char *old = db_res_get(r, 0, 7);
		out->id = atoll(db_res_get(r, 0, 0));
		out->batch = atoll(db_res_get(r, 0, 1));
		out->task_id = atoll(db_res_get(r, 0, 2));
		out->step_id = atoll(db_res_get(r, 0, 3));
		out->epoch = atoll(db_res_get(r, 0, 4));
		out->candidate = db_res_get(r, 0, 5)
					 ? xstrdup(db_res_get(r, 0, 5))
					 : NULL;
		out->flags = (unsigned)atoi(db_res_get(r, 0, 6));
		if (old && !strcmp(old, "running") && db_res_get(r, 0, 8)) {
			out->reclaimed_from = xstrdup(db_res_get(r, 0, 8));
			out->silent_ms = db_res_get(r, 0, 9)
						 ? atoll(db_res_get(r, 0, 9))
						 : 0;
		}
		ret = 1;
	}
	db_res_free(r);
	return ret;
}

int store_queue_heartbeat(struct store *st, const char *owner,
			  const long long *ids, const long long *epochs,
			  size_t n, long long *changed)
{
	char *i = id_array(ids, n), *e = id_array(epochs, n);
	const char *p[3] = { owner, i, e };
	int ret;

	*changed = 0;
	if (refuse(st) || !n) {
		free(i);
		free(e);
		return n ? TS_EFAIL : 0;
	}
	ret = db_exec(store_db(st),
		      "UPDATE work_items SET heartbeat_at = now() WHERE "
		      "owner = $1 AND state = 'running' AND (id, epoch) IN "
		      "(SELECT * FROM unnest($2::bigint[], $3::bigint[]))",
		      3, p, changed)
		      ? TS_EFAIL
		      : 0;
	free(i);
	free(e);
	return ret;
}

int store_queue_guard(struct store *st, long long id, const char *owner,
		      long long epoch)
{
	char i[32], e[32];
	const char *p[3] = { i, owner, e };
	long long n = 0;

	if (refuse(st))
		return TS_EFAIL;
	ll(i, id);
	ll(e, epoch);
	if (one_number(st,
		       "SELECT count(*) FROM (SELECT 1 FROM work_items WHERE "
		       "id = $1 AND owner = $2 AND epoch = $3 AND state = "
		       "'running' FOR UPDATE) x",
		       3, p, &n))
		return TS_EFAIL;
	if (!n)
		return 0;
	/*
	 * The step's row next, before the run row is added: that insert
	 * takes a share lock on it (its foreign key) and the results'
	 * write then an update lock, and two workers recording items of
	 * one step that way would deadlock.
	 */
	if (one_number(st,
		       "SELECT count(*) FROM (SELECT 1 FROM steps WHERE id = "
		       "(SELECT step_id FROM work_items WHERE id = $1) FOR "
		       "UPDATE) x",
		       1, p, &n))
		return TS_EFAIL;
	return 1;
}

/* queued items waiting on one that did not succeed: blocked, in turn */
static int block_dependants(struct store *st, long long batch)
{
	char b[32];
	const char *p[1] = { b };
	long long n = 1;

	ll(b, batch);
	while (n > 0)
		if (db_exec(store_db(st),
			    "UPDATE work_items w SET state = 'blocked', "
			    "finished_at = now(), message = 'step ' || "
			    "(SELECT min(d.step_id) FROM work_items d WHERE "
			    "d.batch = w.batch AND d.step_id = ANY(w.deps) AND "
			    "d.state IN ('failed', 'blocked', 'cancelled')) || "
			    "' did not succeed' WHERE w.batch = $1 AND "
			    "w.state = 'queued' AND EXISTS (SELECT 1 FROM "
			    "work_items d WHERE d.batch = w.batch AND "
			    "d.step_id = ANY(w.deps) AND d.state IN ('failed', "
			    "'blocked', 'cancelled'))",
			    1, p, &n))
			return TS_EFAIL;
	return 0;
}

int store_queue_finish(struct store *st, const struct work_item *w,
		       const char *owner, const char *state,
		       const char *message)
{
	char i[32], e[32];
	const char *p[5] = { i, owner, e, state, message };
	long long n = 0;

	if (refuse(st))
		return TS_EFAIL;
	ll(i, w->id);
	ll(e, w->epoch);
	if (store_begin(st))
		return TS_EFAIL;
	if (db_exec(store_db(st),
		    "UPDATE work_items SET state = $4, message = $5, "
		    "finished_at = now() WHERE id = $1 AND owner = $2 AND "
		    "epoch = $3 AND state = 'running'",
		    5, p, &n) ||
	    (n > 0 && strcmp(state, "succeeded") &&
	     block_dependants(st, w->batch)) ||
	    (n > 0 && db_exec(store_db(st), "SELECT " NOTIFY, 0, NULL, NULL))) {
		store_rollback(st);
		return TS_EFAIL;
	}
	if (store_commit(st))
		return TS_EFAIL;
	return n > 0;
}

int store_queue_unqueued_children(struct store *st, long long batch,
				  long long generator, long long *n)
{
	char b[32], g[32];
	const char *p[2] = { b, g };

	if (refuse(st))
		return TS_EFAIL;
	ll(b, batch);
	ll(g, generator);
	return one_number(st,
			  "SELECT count(*) FROM steps s WHERE s.generated_by = "
			  "$2 AND NOT EXISTS (SELECT 1 FROM work_items w WHERE "
			  "w.batch = $1 AND w.step_id = s.id)",
			  2, p, n);
}

int store_queue_has_step(struct store *st, long long batch, long long step_id,
			 int *has)
{
	char b[32], s[32];
	const char *p[2] = { b, s };
	long long n = 0;

	if (refuse(st))
		return TS_EFAIL;
	ll(b, batch);
	ll(s, step_id);
	if (one_number(st,
		       "SELECT count(*) FROM work_items WHERE batch = $1 AND "
		       "step_id = $2",
		       2, p, &n))
		return TS_EFAIL;
	*has = n > 0;
	return 0;
}

int store_queue_release(struct store *st, const struct work_item *w,
			const char *owner)
{
	char i[32], e[32];
	const char *p[3] = { i, owner, e };
	long long n = 0;

	if (refuse(st))
		return TS_EFAIL;
	ll(i, w->id);
	ll(e, w->epoch);
	if (one_number(
		    st,
		    "WITH r AS (UPDATE work_items SET state = 'queued', "
		    "owner = NULL, host = NULL, heartbeat_at = NULL WHERE "
		    "id = $1 AND owner = $2 AND epoch = $3 AND state = "
		    "'running' RETURNING 1) SELECT count(*) FROM (SELECT " NOTIFY
		    " FROM r) x",
		    3, p, &n))
		return TS_EFAIL;
	return n > 0;
}

int store_queue_cancel(struct store *st, long long task_id, long long *n)
{
	return number_of(st,
			 "WITH c AS (UPDATE work_items SET state = "
			 "'cancelled', finished_at = now(), message = "
			 "'cancelled' WHERE task_id = $1 AND state = 'queued' "
			 "RETURNING 1) SELECT count(*) FROM (SELECT " NOTIFY
			 " FROM c) x",
			 task_id, n);
}

int store_queue_pending(struct store *st, const long long *tasks, size_t ntasks,
			long long *n)
{
	char *t = id_array(tasks, ntasks);
	const char *p[1] = { t };
	int ret;

	if (refuse(st)) {
		free(t);
		return TS_EFAIL;
	}
	ret = one_number(st,
			 "SELECT count(*) FROM work_items WHERE state IN "
			 "('queued', 'running') AND (($1::bigint[]) IS NULL "
			 "OR task_id = ANY($1::bigint[]))",
			 1, p, n);
	free(t);
	return ret;
}

int store_queue_status(struct store *st, long long task_id, json_t **out)
{
	char t[32];
	const char *p[1] = { t };
	struct db_res *r = NULL;
	json_t *doc, *counts, *running;
	long long batch = 0;
	char b[32];
	const char *pb[1] = { b };
	int i;

	*out = NULL;
	if (refuse(st))
		return TS_EFAIL;
	ll(t, task_id);
	if (one_number(st,
		       "SELECT max(batch) FROM work_items WHERE task_id = $1",
		       1, p, &batch))
		return TS_EFAIL;
	ll(b, batch);
	doc = json_object();
	counts = json_object();
	running = json_array();
	json_object_set_new(doc, "batch",
			    batch ? json_integer(batch) : json_null());
	json_object_set_new(doc, "counts", counts);
	json_object_set_new(doc, "running", running);
	if (db_query(store_db(st),
		     "SELECT state, count(*) FROM work_items WHERE batch = $1 "
		     "GROUP BY state ORDER BY state",
		     1, pb, &r))
		goto fail;
	for (i = 0; i < r->nrows; i++)
		json_object_set_new(counts, db_res_get(r, i, 0),
				    json_integer(atoll(db_res_get(r, i, 1))));
	db_res_free(r);
	r = NULL;
	if (db_query(store_db(st),
		     "SELECT id, step_id, candidate, owner, host, "
		     "CAST(EXTRACT(EPOCH FROM now() - claimed_at) * 1000 AS "
		     "BIGINT), CAST(EXTRACT(EPOCH FROM now() - heartbeat_at) * "
		     "1000 AS BIGINT), attempts FROM work_items WHERE batch = "
		     "$1 AND state = 'running' ORDER BY id",
		     1, pb, &r))
		goto fail;
	for (i = 0; i < r->nrows; i++) {
		json_t *o = json_object();
		const char *c = db_res_get(r, i, 2);
		json_object_set_new(o, "id",
				    json_integer(atoll(db_res_get(r, i, 0))));
		json_object_set_new(o, "step_id",
				    json_integer(atoll(db_res_get(r, i, 1))));
		json_object_set_new(o, "candidate",
				    c ? json_string(c) : json_null());
		json_object_set_new(o, "owner",
				    json_string(db_res_get(r, i, 3)));
		json_object_set_new(o, "host",
				    json_string(db_res_get(r, i, 4)
							? db_res_get(r, i, 4)
							: ""));
		json_object_set_new(o, "held_ms",
				    json_integer(atoll(db_res_get(r, i, 5))));
		json_object_set_new(o, "heartbeat_ms",
				    json_integer(atoll(db_res_get(r, i, 6))));
		json_object_set_new(o, "attempts",
				    json_integer(atoll(db_res_get(r, i, 7))));
		json_array_append_new(running, o);
	}
	db_res_free(r);
	*out = doc;
	return 0;
fail:
	json_decref(doc);
	return TS_EFAIL;
}
