#include "tap.h"
#include "usermode.h"

long user_call(long (*fn)(void *), void *arg, void *stack_top, struct catch_ctx *ctx);

int run_in_user(long (*fn)(void *), void *arg, void *stack_top, long *ret,
		struct fault *f)
{
	if ((uintptr_t)stack_top % 16)
		bail_out("run_in_user: stack %p is not 16-byte aligned", stack_top);
	return run_caught(user_call, fn, arg, stack_top, ret, f);
}
