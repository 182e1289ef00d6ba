/* task-sync step tree [TASK_ID]: each task's steps drawn by depends_on */
#include "cmd/cmd.h"
#include "cmd/forest.h"
#include "os/error.h"
#include "os/xalloc.h"

int cmd_step_tree(int argc, const char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	struct forest f = { NULL, 0 };
	struct step *steps = NULL;
	struct task *tasks = NULL;
	size_t nsteps = 0, ntasks = 0, i;
	long long task_id = 0;
	struct store *st;
	int ret;
	const struct option opts[] = { OPT_END_MARK };
	const struct cmd_usage u = {
		"step tree [TASK_ID]",
		"Draw each task's steps as a tree: a step sits under the "
		"steps it depends on.",
		0, 1, NULL
	};

	ret = parse_options(argc, argv, &u, opts, "step tree", &args);
	if (ret > 0 && parse_id_arg(args.v[0], "task", &task_id))
		ret = PARSE_USAGE;
	strvec_clear(&args);
	st = cmd_store_after(ctx, ret, STORE_READ_ONLY, &ret);
	if (!st)
		return ret;
	if (task_id) {
		tasks = xcalloc(1, sizeof(*tasks));
		ret = store_task_get(st, task_id, tasks);
		ntasks = ret ? 0 : 1;
	} else {
		ret = store_task_list(st, &tasks, &ntasks);
	}
	if (!ret)
		ret = store_step_list(st, task_id, &steps, &nsteps);
	if (ret)
		goto out;
	forest_init(&f, steps, nsteps);
	for (i = 0; i < ntasks; i++)
		forest_draw_task(ctx->out, &f, &tasks[i], NULL);
out:
	forest_release(&f);
	step_list_free(steps, nsteps);
	task_list_free(tasks, ntasks);
	return ts_exit_code(ret);
}
