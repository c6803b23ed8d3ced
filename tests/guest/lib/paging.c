#include "paging.h"
#include "processor.h"
#include "string.h"
#include "tap.h"

#define POOL_PAGES	16

extern uint64_t pt_test[512];	/* boot.S: maps TEST_REGION_BASE */

static char pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static unsigned pool_used;

/* A zeroed page, identity mapped (so also a physical address). */
void *alloc_page(void)
{
	if (pool_used == POOL_PAGES)
		bail_out("out of test pages (%d)", POOL_PAGES);
	return memset(pool[pool_used++], 0, PAGE_SIZE);
}

static uint64_t *test_pte(uintptr_t va)
{
	if (va < TEST_REGION_BASE || va >= TEST_REGION_BASE + TEST_REGION_SIZE ||
	    va % PAGE_SIZE)
		bail_out("%#lx is not a page in the test region", va);
	return &pt_test[(va - TEST_REGION_BASE) / PAGE_SIZE];
}

/* Map va to page, present; flags add PTE_W and/or PTE_U. */
void map_page(uintptr_t va, void *page, uint64_t flags)
{
	*test_pte(va) = (uintptr_t)page | PTE_P | flags;
	invlpg(va);
}

void unmap_page(uintptr_t va)
{
	*test_pte(va) = 0;
	invlpg(va);
}
