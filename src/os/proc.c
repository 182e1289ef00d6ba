#include "os/proc.h"
#include "core/error.h"
#include "os/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t interrupted_sig;

static void on_signal(int sig)
{
	interrupted_sig = sig;
}

void proc_install_signal_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll() must see EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int proc_was_interrupted(void)
{
	return interrupted_sig != 0;
}

long long proc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void proc_release(struct proc *p)
{
	strvec_clear(&p->argv);
	strvec_clear(&p->env);
	strbuf_release(&p->out);
}

/* head/tail capture state */
struct capture {
	size_t half;
	char *tail;      /* ring buffer of size half */
	size_t tail_pos; /* next write position */
	size_t tail_len;
};

static void capture_add(struct proc *p, struct capture *c, const char *buf,
			size_t n)
{
	size_t head_room = p->out.len < c->half ? c->half - p->out.len : 0;
	size_t take = n < head_room ? n : head_room;

	if (p->on_output)
		p->on_output(buf, n, p->data);
	p->total_bytes += n;
	strbuf_add(&p->out, buf, take);
	buf += take;
	n -= take;
	while (n) {
		size_t room = c->half - c->tail_pos;
		size_t k = n < room ? n : room;
		memcpy(c->tail + c->tail_pos, buf, k);
		c->tail_pos = (c->tail_pos + k) % c->half;
		c->tail_len = c->tail_len + k > c->half ? c->half
							: c->tail_len + k;
		buf += k;
		n -= k;
	}
}

static void capture_finish(struct proc *p, struct capture *c)
{
	size_t omitted = p->total_bytes - p->out.len - c->tail_len;
	size_t start = c->tail_len < c->half ? 0 : c->tail_pos;

	if (omitted)
		strbuf_addf(&p->out, "\n[... %zu bytes omitted ...]\n",
			    omitted);
	if (c->tail_len < c->half) {
		strbuf_add(&p->out, c->tail, c->tail_len);
	} else {
		strbuf_add(&p->out, c->tail + start, c->half - start);
		strbuf_add(&p->out, c->tail, start);
	}
	/* the stream itself went to on_output untouched */
	strbuf_make_text(&p->out);
}

static void build_env(struct proc *p, struct strvec *envp)
{
	char **e;
	size_t i;
	for (e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		int overridden = 0;
		for (i = 0; eq && i < p->env.nr; i++)
			if (!strncmp(p->env.v[i], *e, (size_t)(eq - *e) + 1))
				overridden = 1;
		if (!overridden)
			strvec_push(envp, *e);
	}
	for (i = 0; i < p->env.nr; i++)
		strvec_push(envp, p->env.v[i]);
}

/* only async-signal-safe calls between fork and exec */
static void child(struct proc *p, int in_fd, int out_fd, int err_pipe,
		  char **envp, pid_t parent)
{
	sigset_t set;
	int e, sig;

	/*
	 * Die with the thread that started us (it waits for us, so with
	 * task-sync): a `kill -9` of task-sync must leave no docker client
	 * behind. A parent gone before the prctl took effect leaves us
	 * reparented: then stop here.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	setpgid(0, 0);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		goto fail;
	if (p->dir && chdir(p->dir) < 0) {
		e = -errno; /* negative: the directory, not the program */
		goto report;
	}
	execvpe(p->argv.v[0], p->argv.v, envp);
fail:
	e = errno;
report:
	if (write(err_pipe, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static void kill_group(pid_t pgid, int sig)
{
	if (pgid > 0)
		kill(-pgid, sig);
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int proc_run(struct proc *p)
{
	int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	int in_pipe[2] = { -1, -1 }, in_fd = -1, pidfd = -1;
	struct strvec envp = STRVEC_INIT;
	struct capture cap = { 0 };
	long long start = proc_now_ms(), deadline = 0, kill_at = 0;
	long long reaped_at = 0;
	size_t in_off = 0;
	int status = 0, exec_errno = 0, reaped = 0, eof = 0, term_sent = 0;
	int ret = -1, pipe_saved = 0;
	struct sigaction ign, old_pipe;
	pid_t pid, self = getpid();
	ssize_t n;

	p->exit_code = 127;
	p->timed_out = p->interrupted = 0;
	p->total_bytes = 0;
	strbuf_reset(&p->out);
	if (!p->argv.nr)
		return error("no program to run");
	if (!p->kill_grace_ms)
		p->kill_grace_ms = 2000;
	if (!p->capture_cap)
		p->capture_cap = 1 << 20;
	cap.half = p->capture_cap / 2 ? p->capture_cap / 2 : 1;
	cap.tail = xmalloc(cap.half);

	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
		error("cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	if (p->input) {
		/* a child that does not read its stdin must not kill us */
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		pipe_saved = !sigaction(SIGPIPE, &ign, &old_pipe);
		if (pipe2(in_pipe, O_CLOEXEC) < 0) {
			error("cannot create a pipe: %s", strerror(errno));
			goto out;
		}
		in_fd = in_pipe[0];
	} else {
		in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	build_env(p, &envp);
	pid = fork();
	if (pid < 0) {
		error("cannot fork: %s", strerror(errno));
		goto out;
	}
	if (!pid)
		child(p, in_fd, out_pipe[1], err_pipe[1], envp.v, self);
	setpgid(pid, pid); /* both sides, so there is no race */
	close(out_pipe[1]);
	out_pipe[1] = -1;
	close(err_pipe[1]);
	err_pipe[1] = -1;
	if (p->input) {
		close(in_pipe[0]);
		in_pipe[0] = -1;
		in_fd = -1;
		fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	}
	n = read(err_pipe[0], &exec_errno, sizeof(exec_errno));
	if (n == (ssize_t)sizeof(exec_errno)) {
		waitpid(pid, &status, 0);
		if (exec_errno < 0) {
			p->exit_code = -exec_errno == ENOENT ? 127 : 126;
			error("cannot run '%s' in '%s': %s", p->argv.v[0],
			      p->dir, strerror(-exec_errno));
		} else {
			p->exit_code = exec_errno == ENOENT ? 127 : 126;
			error("cannot run '%s': %s", p->argv.v[0],
			      strerror(exec_errno));
		}
		goto out;
	}
	pidfd = pidfd_open_(pid);
	if (p->timeout_ms > 0)
		deadline = start + p->timeout_ms;

	while (!reaped || !eof) {
		struct pollfd fds[3];
		int nfds = 0, wait_ms = -1, i_out = -1, i_pid = -1, i_in = -1;
		long long now = proc_now_ms();

		if (!p->interrupted &&
		    ((interrupted_sig && !p->cleanup) ||
		     (p->cancel && *p->cancel && !reaped))) {
			p->interrupted = 1;
			kill_group(pid, SIGTERM);
			term_sent = 1;
			kill_at = now + p->kill_grace_ms;
		}
		if (deadline && now >= deadline && !p->timed_out && !reaped) {
			p->timed_out = 1;
			kill_group(pid, SIGTERM);
			term_sent = 1;
			kill_at = now + p->kill_grace_ms;
		}
		if (term_sent && kill_at && now >= kill_at) {
			kill_group(pid, SIGKILL);
			kill_at = 0;
		}
		/* the child exited but something it started holds the pipe */
		if (reaped && !eof && now - reaped_at >= 1000) {
			kill_group(pid, SIGKILL);
			if (now - reaped_at >= 3000)
				break;
		}
		if (!eof) {
			fds[nfds].fd = out_pipe[0];
			fds[nfds].events = POLLIN;
			i_out = nfds++;
		}
		if (!reaped && pidfd >= 0) {
			fds[nfds].fd = pidfd;
			fds[nfds].events = POLLIN;
			i_pid = nfds++;
		}
		/* all written, and the caller no longer holds it open */
		if (in_pipe[1] >= 0 && in_off >= p->input_len &&
		    !p->hold_input) {
			close(in_pipe[1]);
			in_pipe[1] = -1;
		}
		if (in_pipe[1] >= 0 && in_off < p->input_len) {
			fds[nfds].fd = in_pipe[1];
			fds[nfds].events = POLLOUT;
			i_in = nfds++;
		}
		if (deadline && !p->timed_out)
			wait_ms = (int)(deadline - now);
		if (term_sent && kill_at) {
			long long w = kill_at - now;
			if (wait_ms < 0 || w < wait_ms)
				wait_ms = (int)w;
		}
		if (reaped && !eof)
			wait_ms = 200;
		if (pidfd < 0 && !reaped && (wait_ms < 0 || wait_ms > 100))
			wait_ms = 100; /* no pidfd: poll for the exit */
		/*
		 * Ctrl-C interrupts the poll() of one thread only: a
		 * process run from another thread (rubric_shell grades
		 * candidates in parallel) must look at the flag soon too.
		 */
		if (!p->interrupted && !p->cleanup &&
		    (wait_ms < 0 || wait_ms > 200))
			wait_ms = 200;
		if (wait_ms < 0 && nfds == 0)
			wait_ms = 100;
		if (poll(fds, (nfds_t)nfds, wait_ms) < 0 && errno != EINTR) {
			error("poll: %s", strerror(errno));
			break;
		}
		if (i_out >= 0 && fds[i_out].revents) {
			char buf[65536];
			n = read(out_pipe[0], buf, sizeof(buf));
			if (n > 0)
				capture_add(p, &cap, buf, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
				eof = 1;
		}
		if (i_in >= 0 && fds[i_in].revents) {
			n = write(in_pipe[1], p->input + in_off,
				  p->input_len - in_off);
			if (n > 0)
				in_off += (size_t)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				close(in_pipe[1]);
				in_pipe[1] = -1;
			}
		}
		if (!reaped && (i_pid < 0 || fds[i_pid].revents)) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				reaped = 1;
				reaped_at = proc_now_ms();
				/* sweep what the child left in its group */
				kill_group(pid, SIGKILL);
			}
		}
	}
	if (!reaped) {
		kill_group(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (p->interrupted)
		p->exit_code = 130;
	else if (p->timed_out)
		p->exit_code = 124;
	else if (WIFEXITED(status))
		p->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		p->exit_code = 128 + WTERMSIG(status);
	ret = 0;
out:
	if (pipe_saved)
		sigaction(SIGPIPE, &old_pipe, NULL);
	capture_finish(p, &cap);
	p->duration_ms = proc_now_ms() - start;
	free(cap.tail);
	strvec_clear(&envp);
	if (pidfd >= 0)
		close(pidfd);
	if (in_fd >= 0)
		close(in_fd);
	if (in_pipe[1] >= 0)
		close(in_pipe[1]);
	if (in_pipe[0] >= 0 && in_pipe[0] != in_fd)
		close(in_pipe[0]);
	if (out_pipe[0] >= 0)
		close(out_pipe[0]);
	if (out_pipe[1] >= 0)
		close(out_pipe[1]);
	if (err_pipe[0] >= 0)
		close(err_pipe[0]);
	if (err_pipe[1] >= 0)
		close(err_pipe[1]);
	return ret;
}
