// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: per-user limits on pool pages.
 *
 * Anyone who may open /dev/cowdev (module parameter dev_mode, default 0666)
 * can make the pool run dry, so pages are charged to users: every page a
 * view allocates (first write to a hole, COW copy) is charged to the user
 * that owns the view, and uncharged when the page is back on the pool's
 * free list (a page waiting in limbo still counts, see pool.c).  A user may
 * hold at most user_max_pages pages at once (default: half the pool); a
 * write past that gets SIGBUS, as with an empty pool.  Views opened by a
 * task with CAP_SYS_RESOURCE are not charged.
 *
 * The user that owns a view is the effective uid of the task that opened it
 * (or made the clone) when that task is in the initial user namespace.  A
 * task inside a user namespace is charged to the user who owns the
 * outermost namespace of its chain (the one whose parent is the initial
 * namespace), as the kernel's rlimit counts (ucounts) are charged up the
 * chain to each namespace's owner: the uids of a namespace, however many a
 * subordinate range maps, share their creator's one limit.
 *
 * struct cowdev_user lives from the first view its uid opens until the
 * module is unloaded (there are at most as many as there are uids that used
 * cowdev); @pages is atomic.  cowdev_users maps uids to users; its adds are
 * serialised by cowdev_users_lock (mutex), its lookups need no lock.  Each
 * user has a 16-bit id, which is what a pool page records of its user
 * (struct cowdev_page.user): up to 65535 users, the next one's views fail
 * with EUSERS.  cowdev_user_ids maps ids to users.  Both maps are only
 * added to until unload.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>

#include "cowdev.h"

struct cowdev_user {
	u16 id;
	atomic_long_t pages;
};

unsigned long cowdev_user_max_pages;

static DEFINE_MUTEX(cowdev_users_lock);
static DEFINE_XARRAY(cowdev_users);		/* by uid */
static DEFINE_XARRAY_ALLOC1(cowdev_user_ids);	/* by id */

/* The uid whose limit current's views count against (see above). */
static kuid_t cowdev_charged_uid(void)
{
	const struct user_namespace *ns = current_user_ns();

	if (ns == &init_user_ns)
		return current_euid();
	while (ns->parent != &init_user_ns)
		ns = ns->parent;
	return ns->owner;
}

/* A user for @uid, with an id, in both maps.  Called with the lock. */
static struct cowdev_user *cowdev_user_new(kuid_t uid)
{
	struct cowdev_user *user = kzalloc(sizeof(*user), GFP_KERNEL);
	u32 id;
	int err;

	lockdep_assert_held(&cowdev_users_lock);
	if (!user)
		return ERR_PTR(-ENOMEM);
	err = xa_alloc(&cowdev_user_ids, &id, user, XA_LIMIT(1, U16_MAX),
		       GFP_KERNEL);
	if (err) {
		err = err == -EBUSY ? -EUSERS : err;
		goto err_free;
	}
	user->id = id;
	err = xa_err(xa_store(&cowdev_users, __kuid_val(uid), user,
			      GFP_KERNEL));
	if (err)
		goto err_id;
	return user;

err_id:
	xa_erase(&cowdev_user_ids, id);
err_free:
	kfree(user);
	return ERR_PTR(err);
}

/*
 * The user to charge for a view opened by current, NULL if current is
 * exempt.  ERR_PTR(-ENOMEM) on failure, ERR_PTR(-EUSERS) when every id is
 * taken.  Users are never freed before unload, so a lookup needs no lock.
 */
struct cowdev_user *cowdev_user_get(void)
{
	kuid_t uid = cowdev_charged_uid();
	struct cowdev_user *user;

	if (capable(CAP_SYS_RESOURCE))
		return NULL;
	user = xa_load(&cowdev_users, __kuid_val(uid));
	if (user)
		return user;
	mutex_lock(&cowdev_users_lock);
	user = xa_load(&cowdev_users, __kuid_val(uid));
	if (!user)
		user = cowdev_user_new(uid);
	mutex_unlock(&cowdev_users_lock);
	return user;
}

/* Charge one page to @user; false if that would pass the limit. */
bool cowdev_user_charge(struct cowdev_user *user)
{
	if (!user)
		return true;
	if (atomic_long_inc_return(&user->pages) <= cowdev_user_max_pages)
		return true;
	atomic_long_dec(&user->pages);
	return false;
}

void cowdev_user_uncharge(struct cowdev_user *user)
{
	if (user)
		atomic_long_dec(&user->pages);
}

/* What a pool page records of @user (NULL: 0). */
u16 cowdev_user_id(const struct cowdev_user *user)
{
	return user ? user->id : 0;
}

struct cowdev_user *cowdev_user_by_id(u16 id)
{
	return id ? xa_load(&cowdev_user_ids, id) : NULL;
}

void cowdev_users_exit(void)
{
	struct cowdev_user *user;
	unsigned long uid;

	xa_for_each(&cowdev_users, uid, user) {
		WARN_ON(atomic_long_read(&user->pages));
		kfree(user);
	}
	xa_destroy(&cowdev_users);
	xa_destroy(&cowdev_user_ids);
}
