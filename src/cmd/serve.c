/* task-sync serve: the options, then serve/ (docs/serve.md) */
#include "cmd/cmd.h"
#include "serve/addr.h"
#include "serve/serve.h"

int cmd_serve(int argc, const char **argv, struct cmd_ctx *ctx)
{
	const char *listen = SERVE_DEFAULT_LISTEN;
	struct serve_opts o;
	struct store *st;
	int ret;
	const struct option opts[] = {
		OPT_STRING(
			0, "listen", &listen, "ADDR:PORT",
			"the address to listen on (default " SERVE_DEFAULT_LISTEN
			"; port 0 picks a free one; IPv6 in brackets: "
			"[::1]:8064); beyond loopback only once a token exists"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"serve [--listen ADDR:PORT]",
		"Serve the HTTP API (docs/serve.md) until SIGINT or SIGTERM. "
		"Reads need no token on loopback; writes need the bearer "
		"token, made on the first start in a file only you can read "
		"(its path is printed).",
		0,
		0,
		"  task-sync serve\n"
		"  task-sync serve --listen 127.0.0.1:9000\n"
		"  task-sync serve --listen '[::1]:8064'\n",
	};

	struct sockaddr_storage sa;

	ret = parse_no_args(argc, argv, &u, opts, "serve");
	/* a bad address is a usage error, found before the database */
	if (ret >= 0 && addr_parse(listen, &sa))
		ret = PARSE_USAGE;
	st = cmd_store_after(ctx, ret, 0, &ret);
	if (!st)
		return ret;
	o.listen = listen;
	o.cfg = &ctx->cfg;
	o.st = st;
	return ts_exit_code(serve_run(&o));
}
