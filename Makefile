# SPDX-License-Identifier: GPL-2.0
#
# cowdev top-level Makefile.  See README.md.
#
#   make                 module (for KVER), userspace tools, selftests
#   make KVER=<release>  the same against /lib/modules/<release>/build
#   make check           install deps, run the selftests on every kernel
#   make run             boot a guest, load the module, run the demo
#   make shell           interactive guest shell with the module loaded
#   make lint            checkpatch (--no-tree) and a W=1 build
#   make clean

TOP := $(CURDIR)
# Default kernel: the running one if its headers are installed, else the
# newest Debian kernel of the test matrix.
KVER ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; else \
	ls /lib/modules | grep -E '^6\.(1|12)\.[0-9.]+(-[0-9]+)?(\+deb12)?-amd64$$' | \
	sort -V | tail -n1; fi)
KDIR ?= /lib/modules/$(KVER)/build
KERNEL ?= 6.12
CC ?= gcc

USER_CFLAGS := -Wall -Wextra -O2 -g -D_GNU_SOURCE -I$(TOP)/uapi -I$(TOP)/userspace/lib

all: module userspace selftests

module:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

# Build the module for one kernel of the matrix into build/$(KERNEL)/.
module-for:
	@rm -rf build/$(KERNEL) && mkdir -p build/$(KERNEL)
	@cp -r Kbuild module uapi build/$(KERNEL)/
	$(MAKE) -C $$(scripts/kdir $(KERNEL)) M=$(TOP)/build/$(KERNEL) W=1 modules

userspace:
	$(MAKE) -C userspace

selftests:
	$(MAKE) -C selftests/cowdev

check:
	scripts/check

run: userspace
	$(MAKE) module-for KERNEL=$(KERNEL)
	scripts/vm-run --kernel $(KERNEL) -- scripts/demo build/$(KERNEL)/module/cowdev.ko

shell: all
	$(MAKE) module-for KERNEL=$(KERNEL)
	scripts/vm-run --kernel $(KERNEL) --interactive -- \
		sh -c 'insmod build/$(KERNEL)/module/cowdev.ko && echo "cowdev loaded; exit to power off" && exec bash -i'

CHECKPATCH_DIR := build/checkpatch
CHECKPATCH := $(CHECKPATCH_DIR)/scripts/checkpatch.pl
LINT_FILES = $(wildcard module/*.c module/*.h) uapi/linux/cowdev.h

$(CHECKPATCH):
	@mkdir -p $(CHECKPATCH_DIR)
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C $(CHECKPATCH_DIR) \
		--strip-components=1 --wildcards '*/scripts/checkpatch.pl' \
		'*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'

lint: $(CHECKPATCH)
	$(CHECKPATCH) --no-tree --quiet --show-types -f $(LINT_FILES)
	@$(MAKE) -s module-for KERNEL=$(KERNEL) 2>&1 | tee build/lint-w1.log
	@! grep -E 'warning:|error:' build/lint-w1.log

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
	$(MAKE) -C selftests/cowdev clean
	$(MAKE) -C userspace clean
	rm -rf build

.PHONY: all module module-for userspace selftests check run shell lint clean
