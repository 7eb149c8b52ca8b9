/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowdev: the differences between the kernels cowdev builds against (Debian
 * 6.1 and 6.12), in one place.  Owns no state.
 */
#ifndef COWDEV_COMPAT_H
#define COWDEV_COMPAT_H

#include <linux/mm.h>

/* COWDEV_HAVE_* come from probes of the kernel's headers in Kbuild. */

#ifndef COWDEV_HAVE_VM_FLAGS_SET
/* 6.3 made vma->vm_flags read-only behind vm_flags_set(). */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}
#endif

#ifndef COWDEV_HAVE_PMDP_GET_LOCKLESS
/* 6.5 replaced pmd_read_atomic() with pmdp_get_lockless(). */
static inline pmd_t pmdp_get_lockless(pmd_t *pmdp)
{
	return pmd_read_atomic(pmdp);
}
#endif

#endif /* COWDEV_COMPAT_H */
