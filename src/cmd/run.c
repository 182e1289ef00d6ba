/*
 * Running steps: task run, step run|golden|original, run-steps (the
 * run history, step runs and step log, is cmd/runlog.c).
 */
#include "cmd/cmd.h"
#include "cmd/queue.h"
#include "engine/engine.h"
#include "os/error.h"
#include "core/attempts.h"
#include "core/jsonutil.h"
#include "os/proc.h"
#include "steps/step.h"
#include "store/store.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * serve starts task run and step run as child processes and learns
 * whether the run lock was taken from one line on the descriptor named
 * by this variable: "locked ID" or "busy ID" (serve/runs.c). The
 * variable is removed at once so that the steps' own processes (a shell
 * step running task-sync) never see it, and the descriptor is closed
 * once written.
 */
#define LOCK_NOTIFY_ENV "TASK_SYNC_LOCK_NOTIFY_FD"

static void notify_lock(long long task_id, int taken, void *data)
{
	int fd = (int)(intptr_t)data;
	char line[64];
	int n = snprintf(line, sizeof(line), "%s %lld\n",
			 taken ? "locked" : "busy", task_id);

	if (fd >= 0 && write(fd, line, (size_t)n) < 0) {
		/* serve went away: the run goes on */
	}
}

/* the descriptor serve gave, or -1 */
static int lock_notify_fd(void)
{
	const char *v = getenv(LOCK_NOTIFY_ENV);
	char *end;
	long fd;

	if (!v)
		return -1;
	fd = strtol(v, &end, 10);
	unsetenv(LOCK_NOTIFY_ENV);
	if (*end || fd < 3 || fd > 1024 || fcntl((int)fd, F_GETFD) < 0)
		return -1;
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return (int)fd;
}

struct run_opts {
	int force, golden, original, dry_run, wait, queue;
	const char *repeat; /* --repeat N|auto */
};

#define OPT_REPEAT(v)                                                      \
	OPT_STRING(0, "repeat", v, "N|auto",                               \
		   "rubric steps: grade each cell N times (1..20); auto: " \
		   "2, up to 5 when they disagree")

/* --repeat into e->repeat: 0, or a usage error's exit code */
static int fill_repeat(struct engine_opts *e, const struct run_opts *r,
		       const char *prog)
{
	if (r->repeat && attempts_parse(r->repeat, &e->repeat))
		return usage_error(prog,
				   "--repeat: expected a whole number of "
				   "attempts 1..%d or 'auto', not '%s'",
				   ATTEMPTS_MAX, r->repeat);
	return 0;
}

static void fill_engine_opts(struct engine_opts *e, const struct run_opts *r,
			     struct cmd_ctx *ctx)
{
	int fd = lock_notify_fd();

	e->flags = (r->force ? RUN_FORCE : 0) | (r->golden ? RUN_GOLDEN : 0) |
		   (r->original ? RUN_ORIGINAL : 0) |
		   (r->dry_run ? RUN_DRY : 0);
	e->out = ctx->out;
	e->lock_wait_ms = r->wait * 1000;
	if (fd >= 0) {
		e->on_lock = notify_lock;
		e->on_lock_data = (void *)(intptr_t)fd;
	}
}

static int finish(int ret, const struct engine_stats *s)
{
	if (s->interrupted) {
		error("interrupted: the running step was recorded as error");
		return 130;
	}
	/* a step not run because its stored row cannot be read: as the
	 * store's other readers, exit 3 (exit-codes.md) */
	if (s->unreadable && ret == TS_ESTEP)
		return EXIT_CONFIG;
	return ts_exit_code(ret);
}

static int run_one_step(int argc, const char **argv, struct cmd_ctx *ctx,
			const char *prog, const char *mode, unsigned extra)
{
	struct run_opts r = { 0 };
	long long wait = 0;
	struct engine_opts e = { 0 };
	struct engine_stats s = { 0 };
	long long id = 0;
	struct store *st;
	int ret;
	const struct option opts[] = {
		OPT_BOOL('f', "force", &r.force,
			 "run even when fresh; clear the previous result first"),
		OPT_BOOL(0, "golden", &r.golden,
			 "rubric steps: also run golden and original"),
		OPT_BOOL(0, "original", &r.original,
			 "rubric steps: also grade the original"),
		OPT_BOOL('n', "dry-run", &r.dry_run,
			 "print what would run and why; change nothing"),
		OPT_ID(0, "wait", &wait, "SECONDS",
		       "wait this long for a task another process is running"),
		OPT_REPEAT(&r.repeat),
		OPT_END_MARK,
	};
	struct cmd_usage u = { NULL,
			       "Run one step (its dependencies must "
			       "have succeeded).",
			       1, 1, NULL };
	char usage[128];

	snprintf(usage, sizeof(usage),
		 "%s ID [--force] [--dry-run] [--repeat N|auto]%s", prog,
		 extra ? "" : " [--golden] [--original]");
	u.usage = usage;
	ret = parse_one_id(argc, argv, &u, opts, prog, "step", &id);
	if (ret < 0)
		return PARSE_EXIT(ret);
	r.wait = (int)wait;
	ret = fill_repeat(&e, &r, prog);
	if (ret)
		return ret;
	st = cmd_store(ctx, 0);
	if (!st)
		return CMD_DB_FAILED;
	fill_engine_opts(&e, &r, ctx);
	e.flags |= extra;
	proc_install_signal_handlers();
	fprintf(ctx->out, "Running step ID %lld%s...\n", id, mode);
	ret = engine_run_step(st, cmd_load_config(ctx), id, &e, &s);
	if (!ret && !r.dry_run)
		fprintf(ctx->out, "Step%s processed successfully.\n",
			extra == RUN_GOLDEN_ONLY     ? " (Golden-only)"
			: extra == RUN_ORIGINAL_ONLY ? " (Original-only)"
						     : "");
	else if (ret == TS_ESTEP && !s.interrupted && s.ran + s.blocked)
		fprintf(ctx->out,
			"Error processing step: step %lld did not "
			"succeed\n",
			id);
	return finish(ret, &s);
}

static int step_run(int argc, const char **argv, struct cmd_ctx *ctx)
{
	return run_one_step(argc, argv, ctx, "step run", "", 0);
}

static int step_golden(int argc, const char **argv, struct cmd_ctx *ctx)
{
	return run_one_step(argc, argv, ctx, "step golden",
			    " in Golden-only mode", RUN_GOLDEN_ONLY);
}

static int step_original(int argc, const char **argv, struct cmd_ctx *ctx)
{
	return run_one_step(argc, argv, ctx, "step original",
			    " in Original-only mode", RUN_ORIGINAL_ONLY);
}

static void summary(FILE *out, const struct engine_stats *s)
{
	fprintf(out,
		"%d ran (%d succeeded, %d failed), %d fresh, %d "
		"blocked",
		s->ran, s->succeeded, s->failed, s->fresh, s->blocked);
	if (s->skipped)
		fprintf(out, ", %d skipped", s->skipped);
	if (s->unreadable)
		fprintf(out, ", %d not run (unreadable)", s->unreadable);
	if (s->broken)
		fprintf(out, ", %d task%s stopped by an error", s->broken,
			s->broken == 1 ? "" : "s");
	if (s->infra)
		fprintf(out, ", %d infrastructure failure%s", s->infra,
			s->infra == 1 ? "" : "s");
	if (s->unrecorded)
		fprintf(out, ", %d result%s not recorded", s->unrecorded,
			s->unrecorded == 1 ? "" : "s");
	fputc('\n', out);
}

static int task_run_mode(int argc, const char **argv, struct cmd_ctx *ctx,
			 int golden_only);

int cmd_task_run(int argc, const char **argv, struct cmd_ctx *ctx)
{
	return task_run_mode(argc, argv, ctx, 0);
}

/* task golden: every step, rubric steps grading the golden patch only */
int cmd_task_golden(int argc, const char **argv, struct cmd_ctx *ctx)
{
	return task_run_mode(argc, argv, ctx, 1);
}

static int task_run_mode(int argc, const char **argv, struct cmd_ctx *ctx,
			 int golden_only)
{
	struct run_opts r = { 0 };
	long long wait = 0, id = 0;
	struct engine_opts e = { 0 };
	struct engine_stats s = { 0 };
	struct store *st;
	int ret;
	const struct option opts[] = {
		OPT_BOOL('f', "force", &r.force,
			 "run every step even when fresh"),
		OPT_BOOL(0, "golden", &r.golden,
			 "rubric steps: also run golden and original"),
		OPT_BOOL(0, "original", &r.original,
			 "rubric steps: also grade the original"),
		OPT_BOOL(
			'n', "dry-run", &r.dry_run,
			"print the plan: each step, whether it would run, and why"),
		OPT_ID(0, "wait", &wait, "SECONDS",
		       "wait this long if another process runs the task"),
		OPT_BOOL(0, "queue", &r.queue,
			 "put the work in the queue for 'task-sync worker' "
			 "instead of running it (PostgreSQL)"),
		OPT_REPEAT(&r.repeat),
		OPT_END_MARK,
	};
	const struct cmd_usage run_u = {
		"task run ID [--force] [--golden] [--original] [--dry-run] "
		"[--queue] [--repeat N|auto]",
		"Run the task's steps in dependency order (ties by step ID). "
		"A step whose dependencies did not succeed (or no longer "
		"exist) is blocked; a step whose inputs are unchanged since its "
		"last success is fresh; a dynamic_rubric step is skipped (run "
		"it with 'step run ID'). --repeat grades each rubric cell N "
		"times; attempts that disagree make the cell FLAKY.",
		1,
		1,
		"  task-sync task run 3\n  task-sync task run 3 --dry-run\n"
		"  task-sync task run 3 --golden --repeat 3\n",
	};
	const struct cmd_usage golden_u = {
		"task golden ID [--force] [--dry-run] [--repeat N|auto]",
		"Run the task's steps with every rubric step grading the "
		"golden patch only (a check of the rubric itself).",
		1,
		1,
		"  task-sync task golden 3\n",
	};
	const struct cmd_usage *u = golden_only ? &golden_u : &run_u;
	const char *prog = golden_only ? "task golden" : "task run";

	ret = parse_one_id(argc, argv, u, opts, prog, "task", &id);
	if (ret < 0)
		return PARSE_EXIT(ret);
	r.wait = (int)wait;
	if (r.queue && r.dry_run)
		return usage_error(prog, "--queue and --dry-run do not go "
					 "together");
	if (r.queue && r.repeat)
		return usage_error(prog, "--queue and --repeat do not go "
					 "together (a worker grades each item "
					 "once)");
	if (r.queue && (ret = cmd_queue_refuse(ctx, prog)))
		return ret;
	ret = fill_repeat(&e, &r, prog);
	if (ret)
		return ret;
	st = cmd_store(ctx, 0);
	if (!st)
		return CMD_DB_FAILED;
	if (golden_only && (r.golden || r.original))
		return usage_error(prog, "--golden and --original do not "
					 "apply to 'task golden'");
	fill_engine_opts(&e, &r, ctx);
	if (golden_only)
		e.flags |= RUN_GOLDEN_ONLY;
	if (r.queue)
		return ts_exit_code(cmd_queue_task(ctx, st, id, e.flags));
	proc_install_signal_handlers();
	fprintf(ctx->out, "Running all steps for task ID %lld%s...\n", id,
		golden_only ? " in Golden-only mode" : "");
	ret = engine_run_task(st, cmd_load_config(ctx), id, &e, &s);
	if (!r.dry_run && (!ret || ret == TS_ESTEP)) {
		summary(ctx->out, &s);
		if (!ret)
			fputs("All steps for task processed successfully.\n",
			      ctx->out);
	}
	return finish(ret, &s);
}

/* run-steps --queue: each active task with steps and nothing queued */
static int queue_all(struct cmd_ctx *ctx, struct store *st)
{
	struct task *t = NULL;
	size_t nr = 0, i;
	int ret = store_task_list(st, &t, &nr), bad = 0;

	for (i = 0; !ret && i < nr; i++) {
		long long open = 0;
		if (strcmp(t[i].status, "active"))
			continue;
		ret = store_queue_open_items(st, t[i].id, &open);
		if (ret || open) {
			if (open)
				note("task %lld already has items queued or "
				     "running: left as it is",
				     t[i].id);
			continue;
		}
		if (cmd_queue_task(ctx, st, t[i].id, 0))
			bad++;
	}
	task_list_free(t, nr);
	if (ret)
		return ts_exit_code(ret);
	return bad ? EXIT_STEP_FAILED : 0;
}

int cmd_run_steps(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct run_opts r = { 0 };
	long long wait = 0;
	struct engine_opts e = { 0 };
	struct engine_stats s = { 0 };
	struct strvec args = STRVEC_INIT;
	struct store *st;
	int ret, verbose = 0;
	const struct option opts[] = {
		OPT_BOOL('n', "dry-run", &r.dry_run,
			 "print the plan; change nothing"),
		OPT_BOOL('v', "verbose", &verbose,
			 "also print the fresh steps"),
		OPT_ID(0, "wait", &wait, "SECONDS",
		       "wait this long for each task another process is running"),
		OPT_BOOL(0, "queue", &r.queue,
			 "queue every active task's work for 'task-sync "
			 "worker' instead of running it (PostgreSQL)"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"run-steps [--dry-run] [--verbose] [--queue]",
		"Run the steps of every active task that need running, task "
		"by task (dynamic_rubric steps are left to 'step run ID'). "
		"Returns at once when nothing changed.",
		0, 0, "  task-sync run-steps\n"
	};

	ret = parse_options(argc, argv, &u, opts, "run-steps", &args);
	strvec_clear(&args);
	if (ret < 0)
		return PARSE_EXIT(ret);
	r.wait = (int)wait;
	if (r.queue && r.dry_run)
		return usage_error("run-steps", "--queue and --dry-run do not "
						"go together");
	if (r.queue && (ret = cmd_queue_refuse(ctx, "run-steps")))
		return ret;
	st = cmd_store(ctx, 0);
	if (!st)
		return CMD_DB_FAILED;
	if (r.queue)
		return queue_all(ctx, st);
	fill_engine_opts(&e, &r, ctx);
	e.quiet_fresh = !verbose;
	proc_install_signal_handlers();
	fputs("Starting step processing...\n", ctx->out);
	ret = engine_run_all(st, cmd_load_config(ctx), &e, &s);
	if (!r.dry_run && (!ret || ret == TS_ESTEP))
		summary(ctx->out, &s);
	fputs("Step processing finished.\n", ctx->out);
	return finish(ret, &s);
}

const struct cmd_entry step_run_commands[] = {
	{ "run", step_run, "run a step" },
	{ "golden", step_golden, "run a rubric step on golden only" },
	{ "original", step_original, "run a rubric step on original only" },
	{ NULL, NULL, NULL },
};
