# SPDX-License-Identifier: GPL-2.0
#
# cowdev top-level Makefile.  See README.md.
#
#   make                 module (for KVER), userspace tools, selftests
#   make KVER=<release>  the same against /lib/modules/<release>/build
#   make install         the tools, libcowdev, demos (DESTDIR=, PREFIX=)
#   make check           install deps, run the selftests on every kernel
#   make check-debug     long fuzz and stress runs on the debug kernels
#   make bench           cowdev's faults against the kernel's, every Debian
#                        kernel of the matrix (scripts/bench; not in check)
#   make run             boot a guest, load the module, run the demo
#   make shell           interactive guest shell with the module loaded
#   make lint            checkpatch (--no-tree) and a W=1 build
#   make clean

TOP := $(CURDIR)
# The kernel of the matrix (scripts/kernels) that make run, make shell and
# make lint use.
KERNEL ?= 6.12
# Default kernel for `make`: the running one if its headers are installed,
# else the newest installed release of $(KERNEL).
KVER ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; else \
	scripts/kdir --release $(KERNEL); fi)
KDIR ?= /lib/modules/$(KVER)/build
CC ?= gcc

USER_CFLAGS := -Wall -Wextra -O2 -g -D_GNU_SOURCE -I$(TOP)/uapi -I$(TOP)/userspace/lib

all: module userspace selftests

module:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

# Build the module for one kernel of the matrix into $(BUILD)/$(KERNEL)/.
# COWDEV_BUG=<name> in the environment builds a test module with a
# deliberate bug (module/bugs.c); BUILD=<dir> keeps it apart.
BUILD ?= build
# Built beside and renamed into place, so a guest never finds it half-built.
MODULE_TMP = $(BUILD)/.tmp-$(KERNEL)
module-for:
	@rm -rf $(MODULE_TMP) && mkdir -p $(MODULE_TMP)
	@cp -r Kbuild module uapi $(MODULE_TMP)/
	$(MAKE) -C $$(scripts/kdir $(KERNEL)) M=$(abspath $(MODULE_TMP)) W=1 modules
	@rm -rf $(BUILD)/$(KERNEL) && mv $(MODULE_TMP) $(BUILD)/$(KERNEL)

userspace:
	$(MAKE) -C userspace

# The tools, libcowdev, demos, bpftrace scripts and man pages (not the
# module: DKMS or `make module` does that); DESTDIR= and PREFIX= (default
# /usr/local) pass through.  See userspace/Makefile.
install:
	$(MAKE) -C userspace install

selftests:
	$(MAKE) -C selftests/cowdev

check:
	scripts/check

check-debug:
	scripts/check-debug

# The benchmark of issue 20 (Documentation/bench.rst): results in
# build/bench/.  BENCH_ARGS="-q 6.12" passes options and kernels.  Not
# part of make check.
bench:
	scripts/bench $(BENCH_ARGS)

run:
	scripts/deps
	$(MAKE) userspace
	$(MAKE) module-for KERNEL=$(KERNEL)
	scripts/vm-run --kernel $(KERNEL) -- scripts/demo build/$(KERNEL)/module/cowdev.ko

shell: all
	$(MAKE) module-for KERNEL=$(KERNEL)
	scripts/vm-run --kernel $(KERNEL) --interactive -- \
		sh -c 'insmod build/$(KERNEL)/module/cowdev.ko && echo "cowdev loaded; exit to power off" && exec bash -i'

CHECKPATCH_DIR := build/checkpatch
CHECKPATCH := $(CHECKPATCH_DIR)/scripts/checkpatch.pl
LINT_FILES = $(filter-out %.mod.c,$(wildcard module/*.c module/*.h)) uapi/linux/cowdev.h

$(CHECKPATCH):
	@mkdir -p $(CHECKPATCH_DIR)
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C $(CHECKPATCH_DIR) \
		--strip-components=1 --wildcards '*/scripts/checkpatch.pl' \
		'*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'

lint: $(CHECKPATCH)
	$(CHECKPATCH) --no-tree --quiet --show-types -f $(LINT_FILES)
	@$(MAKE) -s module-for KERNEL=$(KERNEL) BUILD=build/lint 2>&1 | tee build/lint-w1.log
	@! grep -E 'warning:|error:' build/lint-w1.log

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	$(MAKE) -C selftests/cowdev clean
	$(MAKE) -C userspace clean
	rm -rf build

.PHONY: all module module-for userspace install selftests check check-debug bench run shell lint clean
