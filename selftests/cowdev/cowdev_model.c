// SPDX-License-Identifier: GPL-2.0
/* The userspace model of a cowdev object's contents: see cowdev_model.h. */
#include <string.h>
#include <unistd.h>

#include <linux/cowdev.h>

#include "cowdev_model.h"

/* Equal ids = the same pool page; a write always makes a new one. */
static uint32_t cowdev_model_next_id;

static size_t cowdev_model_chunk(void)
{
	static size_t cs;

	if (!cs)
		cs = sysconf(_SC_PAGESIZE) / COWDEV_MODEL_CHUNKS;
	return cs;
}

void cowdev_model_init(struct cowdev_model *m, unsigned long size)
{
	memset(m, 0, sizeof(*m));
	m->size = size;
}

void cowdev_model_write(struct cowdev_model *m, unsigned long p,
			unsigned int c0, unsigned int c1, uint64_t tag,
			unsigned long when)
{
	struct cowdev_model_page *pg = &m->pg[p];
	unsigned int c;

	for (c = c0; c < c1; c++)
		pg->tag[c] = tag;
	pg->when = when;
	pg->res = COWDEV_MODEL_RESIDENT;
	pg->dirty = 1;
	pg->id = __atomic_add_fetch(&cowdev_model_next_id, 1,
				    __ATOMIC_RELAXED);
}

void cowdev_model_resize(struct cowdev_model *m, unsigned long size,
			 unsigned long when)
{
	unsigned long p;

	for (p = size; p < m->size && p < COWDEV_MODEL_PAGES; p++) {
		memset(m->pg[p].tag, 0, sizeof(m->pg[p].tag));
		m->pg[p].when = when;
		m->pg[p].res = COWDEV_MODEL_HOLE;
		m->pg[p].dirty = 0;
	}
	m->size = size;
}

void cowdev_model_clone(struct cowdev_model *src, struct cowdev_model *dst)
{
	unsigned long p;

	for (p = 0; p < src->size; p++)
		if (cowdev_model_resident(src, p))
			src->pg[p].dirty = 0;
	if (dst)
		*dst = *src;
}

int cowdev_model_state(const struct cowdev_model *m, unsigned long p)
{
	const struct cowdev_model_page *pg = &m->pg[p];

	switch (pg->res) {
	case COWDEV_MODEL_HOLE:
		return 0;
	case COWDEV_MODEL_RESIDENT:
		return COWDEV_PAGE_RESIDENT | (pg->dirty ? COWDEV_PAGE_DIRTY : 0);
	default:
		return -1;
	}
}

unsigned long cowdev_model_count(const struct cowdev_model *m, bool *known)
{
	unsigned long p, n = 0;

	if (known)
		*known = true;
	for (p = 0; p < m->size; p++) {
		if (m->pg[p].res == COWDEV_MODEL_UNKNOWN && known)
			*known = false;
		n += cowdev_model_resident(m, p);
	}
	return n;
}

void cowdev_model_build(char *buf, unsigned long p, unsigned int c0,
			unsigned int c1, uint64_t tag)
{
	size_t i, n = cowdev_model_chunk() / 8;
	uint64_t *wp = (uint64_t *)buf;
	unsigned int c;

	for (c = c0; c < c1; c++) {
		uint64_t word = cowdev_model_word(tag, p, c);

		for (i = 0; i < n; i++)
			*wp++ = word;
	}
}

int cowdev_model_compare(const struct cowdev_model *m, unsigned long p,
			 const char *got, unsigned int *chunk,
			 unsigned int *word)
{
	const uint64_t *gw = (const uint64_t *)got;
	size_t i, n = cowdev_model_chunk() / 8;
	unsigned int c;

	for (c = 0; c < COWDEV_MODEL_CHUNKS; c++) {
		uint64_t want = cowdev_model_word(m->pg[p].tag[c], p, c);

		for (i = 0; i < n; i++, gw++) {
			if (*gw == want)
				continue;
			*chunk = c;
			*word = i;
			return -1;
		}
	}
	return 0;
}
