/*
 * 0-1 GiB is identity mapped with user-accessible 2 MiB pages (boot.S).
 * Tests build their own mappings with 4 KiB pages in the test region.
 * Changes are flushed from this CPU's TLB only.
 */
#ifndef PAGING_H
#define PAGING_H

#include <stdint.h>

#define PAGE_SIZE		4096ul
#define TEST_REGION_BASE	0x40000000ul
#define TEST_REGION_SIZE	(512 * PAGE_SIZE)

#define PTE_P			(1ull << 0)
#define PTE_W			(1ull << 1)
#define PTE_U			(1ull << 2)

void *alloc_page(void);
void map_page(uintptr_t va, void *page, uint64_t flags);
void unmap_page(uintptr_t va);

#endif
