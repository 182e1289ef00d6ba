/*
 * Repeated grading's policy and verdict (core/attempts.h).
 */
#include "core/attempts.h"

#include <stdlib.h>
#include <string.h>

int attempts_parse(const char *text, int *repeat)
{
	char *end;
	long n;

	if (!text)
		return -1;
	if (!strcmp(text, "auto")) {
		*repeat = ATTEMPTS_AUTO;
		return 0;
	}
	if (*text < '0' || *text > '9')
		return -1;
	n = strtol(text, &end, 10);
	if (*end || n < 1 || n > ATTEMPTS_MAX)
		return -1;
	*repeat = (int)n;
	return 0;
}

int attempts_parse_json(const json_t *v, int *repeat)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < 1 || n > ATTEMPTS_MAX)
			return -1;
		*repeat = (int)n;
		return 0;
	}
	return attempts_parse(json_string_value(v), repeat);
}

static int all_agree(const int *status, int n)
{
	int i;
	for (i = 1; i < n; i++)
		if (status[i] != status[0])
			return 0;
	return 1;
}

int attempts_wanted(int repeat)
{
	return repeat == ATTEMPTS_AUTO ? 2 : repeat < 1 ? 1 : repeat;
}

int attempts_more(int repeat, const int *status, int n)
{
	if (repeat != ATTEMPTS_AUTO)
		return n < attempts_wanted(repeat);
	if (n < 2)
		return 1;
	return n < ATTEMPTS_AUTO_MAX && !all_agree(status, n);
}

enum grade_status attempts_verdict(const int *status, int n, int *passes)
{
	int i;

	*passes = 0;
	for (i = 0; i < n; i++)
		*passes += status[i] == GRADE_PASS;
	return all_agree(status, n) ? (enum grade_status)status[0]
				    : GRADE_FLAKY;
}
