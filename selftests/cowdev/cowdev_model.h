/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The userspace model of one cowdev object's contents, shared by the
 * fuzzer and the stress test.
 *
 * Per page: the contents, as one tag per chunk of COWDEV_MODEL_CHUNKS (0:
 * never written, zeros; what a tag looks like in memory is the test's
 * business, cowdev_model_word() is the stress test's pattern, the fuzzer
 * fills a page with one byte), whether the page is resident (a hole, a
 * page of the view's own, or unknown after a write that may or may not
 * have allocated it), whether it is dirty (written since the last clone
 * shared it) and an id: two models with the same id for a resident page
 * share one pool page (a clone not written since).  The size in pages;
 * shrinking drops the pages beyond it.  A clone is a copy of the model.
 */
#ifndef COWDEV_MODEL_H
#define COWDEV_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COWDEV_MODEL_PAGES	256	/* the largest modelled object */
#define COWDEV_MODEL_CHUNKS	8	/* content tags per page */

enum cowdev_model_res {
	COWDEV_MODEL_HOLE,
	COWDEV_MODEL_RESIDENT,
	COWDEV_MODEL_UNKNOWN,
};

struct cowdev_model_page {
	uint64_t tag[COWDEV_MODEL_CHUNKS];
	uint8_t res;		/* enum cowdev_model_res */
	uint8_t dirty;
	uint32_t id;
	unsigned long when;	/* the caller's clock at the last change */
};

struct cowdev_model {
	unsigned long size;	/* pages */
	struct cowdev_model_page pg[COWDEV_MODEL_PAGES];
};

/* A new object of @size pages: all holes. */
void cowdev_model_init(struct cowdev_model *m, unsigned long size);
/*
 * Chunks [@c0, @c1) of page @p now hold @tag (the rest of the page keeps
 * its tags): the page is the view's own, resident and dirty.
 */
void cowdev_model_write(struct cowdev_model *m, unsigned long p,
			unsigned int c0, unsigned int c1, uint64_t tag,
			unsigned long when);
/* SET_SIZE to @size pages: the pages beyond it are dropped (holes). */
void cowdev_model_resize(struct cowdev_model *m, unsigned long size,
			 unsigned long when);
/* CLONE of @src: its pages are no longer dirty; @dst (if any) a copy. */
void cowdev_model_clone(struct cowdev_model *src, struct cowdev_model *dst);

static inline bool cowdev_model_resident(const struct cowdev_model *m,
					 unsigned long p)
{
	return m->pg[p].res == COWDEV_MODEL_RESIDENT;
}

/* The tag of page @p's first chunk (the whole page's, for a fill). */
static inline uint64_t cowdev_model_tag(const struct cowdev_model *m,
					unsigned long p)
{
	return m->pg[p].tag[0];
}

/* Do @a and @b share page @p's pool page (both resident, same id)? */
static inline bool cowdev_model_same_page(const struct cowdev_model *a,
					  const struct cowdev_model *b,
					  unsigned long p)
{
	return p < a->size && p < b->size && cowdev_model_resident(a, p) &&
	       cowdev_model_resident(b, p) && a->pg[p].id == b->pg[p].id;
}

/*
 * The PAGE_STATE flags the model expects of page @p, COWDEV_PAGE_SHARED
 * aside: 0, RESIDENT or RESIDENT | DIRTY; -1 when residency is unknown.
 */
int cowdev_model_state(const struct cowdev_model *m, unsigned long p);
/*
 * Resident pages in the model; *@known (if not NULL) false when some
 * page's residency is unknown.
 */
unsigned long cowdev_model_count(const struct cowdev_model *m, bool *known);

/*
 * The stress test's pattern: chunk @c of page @p written with tag @tag
 * holds this 64-bit word (tag << 12 | page << 3 | chunk) throughout, so a
 * word read back names the write, the page and the chunk it came from.
 */
static inline uint64_t cowdev_model_word(uint64_t tag, unsigned long p,
					 unsigned int c)
{
	return tag ? tag << 12 | p << 3 | c : 0;
}

/* Chunks [@c0, @c1) of page @p with tag @tag, in that pattern, into @buf. */
void cowdev_model_build(char *buf, unsigned long p, unsigned int c0,
			unsigned int c1, uint64_t tag);
/*
 * Compare a whole page @got (page @p, read through a mapping) with the
 * model, in that pattern: 0 if equal, else -1 with the first differing
 * chunk and word in *@chunk and *@word.
 */
int cowdev_model_compare(const struct cowdev_model *m, unsigned long p,
			 const char *got, unsigned int *chunk,
			 unsigned int *word);

#endif /* COWDEV_MODEL_H */
