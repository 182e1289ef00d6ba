/*
 * libFuzzer entry point for rubric_parse_json: the input, NUL-terminated,
 * parsed and released. Built and run by scripts/fuzz.
 */
#include "core/rubric.h"
#include "os/xalloc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rubric r = RUBRIC_INIT;
	char *text = xmalloc(size + 1);
	size_t i;

	memcpy(text, data, size);
	text[size] = '\0';
	if (!rubric_parse_json(text, "fuzz.json", &r, NULL))
		for (i = 0; i < r.nr; i++)
			free(criterion_hash(&r.v[i]));
	rubric_release(&r);
	free(text);
	return 0;
}
