#include "core/truth.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int word_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && !strncasecmp(s, word, n);
}

int truth_parse(const char *s)
{
	size_t n;

	if (!s)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (word_is(s, n, "true") || word_is(s, n, "yes") || word_is(s, n, "1"))
		return 1;
	if (word_is(s, n, "false") || word_is(s, n, "no") || word_is(s, n, "0"))
		return 0;
	return -1;
}

int truth_json(const json_t *v)
{
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_number(v)) {
		double d = json_number_value(v);
		return d == 1 ? 1 : d == 0 ? 0 : -1;
	}
	return truth_parse(json_string_value(v));
}
