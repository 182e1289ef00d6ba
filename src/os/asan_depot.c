/*
 * Built into task-sync only when AddressSanitizer is on (meson.build):
 * the test suite's build-asan/. Nothing calls it; it runs from the
 * executable's .preinit_array, after the ASan runtime has started.
 *
 * At every exit LeakSanitizer scans the runtime's own writable data for
 * pointers, and 4.4 MB of it is the stack depot's hash table, mostly
 * never written. Reading each untouched 4 KiB page of it is a page fault,
 * about 1,000 of them a process: 6 ms of a 46 ms `task list` on the test
 * machine, where a fault is dear (docs/testing.md). MADV_COLLAPSE turns
 * the 2 MiB-aligned part of that data into huge pages at once, so the
 * scan faults twice instead. What LeakSanitizer scans and reports is
 * unchanged. On a kernel without MADV_COLLAPSE (before 6.1) the call
 * fails and nothing else happens.
 */
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define HUGE_PAGE ((uintptr_t)2 << 20)

static int collapse_runtime_data(struct dl_phdr_info *info, size_t size,
				 void *data)
{
	int i;

	(void)size;
	(void)data;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "/libasan."))
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t b, e;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		b = info->dlpi_addr + ph->p_vaddr;
		e = b + ph->p_memsz;
		b = (b + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		e &= ~(HUGE_PAGE - 1);
		if (e > b)
			madvise((void *)b, e - b, MADV_COLLAPSE);
	}
	return 1;
}

static void asan_depot_collapse(int argc, char **argv, char **envp)
{
	(void)argc;
	(void)argv;
	(void)envp;
	dl_iterate_phdr(collapse_runtime_data, NULL);
}

typedef void (*preinit_fn)(int, char **, char **);

__attribute__((section(".preinit_array"),
	       used)) static const preinit_fn asan_depot_preinit =
	asan_depot_collapse;
