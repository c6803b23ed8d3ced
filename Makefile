# UINTR for QEMU 10.0.13 (TCG) and libvirt 11.3.0: top-level build, test and demo.
#
#   make               deps, patched QEMU, libvirt, uintrctl, guest test images, cpu_map
#   make check         every test suite; ends with "N passed, M failed"
#   make demo          a UINTR guest under a private libvirtd, checked by uintrctl
#   make qemu-tree     work/qemu: git tree of QEMU 10.0.13 with one commit per patch
#   make qemu-export   work/qemu's commits back into qemu-patches/
#   make libvirt-tree / libvirt-export   the same for libvirt 11.3.0
#   make qemu-stock    the same QEMU without the series (the tests' "QEMU without UINTR")
#   make check-series  build every prefix of the QEMU and libvirt series (each patch alone)
#   make check-targets build the series for qemu-system-i386 and qemu-x86_64 (user)
#   make conformance   docs/conformance.md from the guest logs of make check
#   make fuzz          uintrctl's libFuzzer targets, FUZZ_RUNS (default 10^6) executions each
#   make soak          soaks (scripts/soak.sh): 10^6 all-to-all user interrupts, 2x10^5 fuzzed
#                      SENDUIPI/notification ops, 100 live migrations; logs in build/soak
#   make bench         user-interrupt benchmarks in both TCG modes, the stock QEMU's spin
#                      and kernel-IPI figures next to them, and the series' cost for a
#                      Linux guest; table and plot in build/bench (docs/performance.md)
#
# Variables: UINTR_CACHE (default /var/cache/uintr) holds sources and the
# QEMU/libvirt builds, shared by all clones; QEMU_TARBALL / LIBVIRT_TARBALL
# name your own release tarball instead of Debian's orig tarball;
# UINTR_DEBUG_INFO=1 builds QEMU and libvirt with debug information (-g).

SHELL := /bin/bash
TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
BUILD := $(TOP)/build
export UINTR_CACHE ?= /var/cache/uintr
QEMU := $(UINTR_CACHE)/qemu/prefix/bin/qemu-system-x86_64
# The same QEMU without the series: the "QEMU without UINTR" of the tests.
STOCK_QEMU := $(UINTR_CACHE)/qemu-stock/prefix/bin/qemu-system-x86_64
UINTRCTL := $(BUILD)/uintrctl/uintrctl
GUEST_BUILD := $(BUILD)/guest
CPU_MAP := $(BUILD)/cpu_map

QEMU_SERIES := $(wildcard $(TOP)/qemu-patches/*) $(TOP)/scripts/build-qemu.sh $(TOP)/scripts/qemu-config.sh \
	$(TOP)/scripts/tree.sh
LIBVIRT_SERIES := $(wildcard $(TOP)/libvirt-patches/*) $(TOP)/scripts/cpu-map.sh

export QEMU STOCK_QEMU UINTRCTL GUEST_BUILD CPU_MAP

# QEMU and libvirt build again when UINTR_DEBUG_INFO changes.
export UINTR_DEBUG_INFO ?= 0
DEBUG_INFO := $(BUILD)/debug-info
$(DEBUG_INFO): FORCE
	@mkdir -p $(BUILD)
	@[ "$$(cat $@ 2>/dev/null)" = "$(UINTR_DEBUG_INFO)" ] || echo "$(UINTR_DEBUG_INFO)" > $@

.PHONY: all prepare libvirt-prepare deps qemu qemu-stock libvirt uintrctl guest cpu-map check demo qemu-tree qemu-export \
        libvirt-tree libvirt-export check-series check-targets conformance fuzz clean FORCE \
        soak bench

all: prepare qemu libvirt uintrctl guest cpu-map

# The single-threaded first steps of the QEMU and libvirt builds (unpacking,
# applying the series, configuring) and the small builds run side by side:
# QEMU's, the longest, on one core, the others niced on the other.  The two
# compiles, which use every core, then run one after the other.  Nothing to
# do when the builds are up to date.
prepare: $(BUILD)/deps.stamp $(DEBUG_INFO)
	@nice -n 10 $(MAKE) --no-print-directory -j2 -O libvirt-prepare uintrctl guest cpu-map & \
	others=$$!; $(TOP)/scripts/build-qemu.sh --prepare; rc=$$?; \
	wait $$others || rc=1; exit $$rc
libvirt-prepare: $(BUILD)/deps.stamp
	@$(TOP)/scripts/build-libvirt.sh --prepare

# deps.stamp: what the builds and the demo need; deps-test.stamp: the rest
# of what the tests, fuzzing, soaks and benchmarks use (scripts/deps.sh).
deps: $(BUILD)/deps.stamp $(BUILD)/deps-test.stamp
$(BUILD)/deps.stamp: $(TOP)/scripts/deps.sh
	@mkdir -p $(BUILD)
	$(TOP)/scripts/deps.sh build
	@touch $@
$(BUILD)/deps-test.stamp: $(TOP)/scripts/deps.sh $(TOP)/tests/linux/deps.sh $(BUILD)/deps.stamp
	$(TOP)/scripts/deps.sh test
	@touch $@

qemu: $(BUILD)/qemu.stamp
# The stamp also goes stale when the cached binary disappears.
$(BUILD)/qemu.stamp: $(QEMU_SERIES) $(BUILD)/deps.stamp $(DEBUG_INFO) $(if $(wildcard $(QEMU)),,FORCE)
	$(TOP)/scripts/build-qemu.sh
	@touch $@

qemu-stock: $(BUILD)/qemu-stock.stamp
$(BUILD)/qemu-stock.stamp: $(TOP)/scripts/build-qemu.sh $(TOP)/scripts/qemu-config.sh $(BUILD)/deps.stamp $(DEBUG_INFO) \
		$(if $(wildcard $(STOCK_QEMU)),,FORCE)
	$(TOP)/scripts/build-qemu.sh stock
	@touch $@

uintrctl: $(BUILD)/deps.stamp
	@$(MAKE) --no-print-directory -C $(TOP)/uintrctl O=$(BUILD)/uintrctl

guest: $(BUILD)/deps.stamp
	@$(MAKE) --no-print-directory -C $(TOP)/tests/guest O=$(GUEST_BUILD)

# libvirt 11.3.0 with the series, installed into $(LIBVIRT_PREFIX): the
# libvirtd and virsh of the private daemons (tests/lib/libvirtd.sh).  The
# libvirt test suite runs later, in make check.
LIBVIRT_PREFIX := $(UINTR_CACHE)/libvirt/prefix
libvirt: $(BUILD)/libvirt.stamp
$(BUILD)/libvirt.stamp: $(LIBVIRT_SERIES) $(TOP)/scripts/build-libvirt.sh $(TOP)/scripts/tree.sh $(BUILD)/deps.stamp $(DEBUG_INFO) $(if $(wildcard $(LIBVIRT_PREFIX)/sbin/libvirtd),,FORCE)
	$(TOP)/scripts/build-libvirt.sh --install-only
	@touch $@

cpu-map: $(CPU_MAP)/index.xml
$(CPU_MAP)/index.xml: $(LIBVIRT_SERIES) $(BUILD)/deps.stamp
	$(TOP)/scripts/cpu-map.sh $(CPU_MAP)

check: all qemu-stock $(BUILD)/deps-test.stamp
	@$(TOP)/scripts/check.sh

demo: all
	@$(TOP)/scripts/demo.sh

qemu-tree libvirt-tree: %-tree: $(BUILD)/deps.stamp
	$(TOP)/scripts/tree.sh make $* $(TOP)/work/$*
	@echo "edit and commit in work/$*, then: make $*-export"

qemu-export libvirt-export: %-export:
	$(TOP)/scripts/tree.sh export $* $(TOP)/work/$*

check-series: $(BUILD)/deps.stamp
	$(TOP)/scripts/check-series.sh

check-targets: $(BUILD)/deps.stamp
	$(TOP)/scripts/check-targets.sh

fuzz: $(BUILD)/deps-test.stamp
	@$(MAKE) --no-print-directory -C $(TOP)/uintrctl O=$(BUILD)/uintrctl fuzz FUZZ_RUNS=$(or $(FUZZ_RUNS),1000000)

# Not part of make check: see docs/testing.md, "Soaks".
soak: $(BUILD)/deps-test.stamp
	@$(TOP)/scripts/soak.sh

# Not part of make check: see docs/performance.md.
bench: qemu qemu-stock guest $(BUILD)/deps-test.stamp
	@$(TOP)/scripts/bench.sh

conformance:
	@test -d $(BUILD)/check/guest || { echo "run make check first"; exit 1; }
	$(TOP)/scripts/conformance.sh $(BUILD)/check/guest > $(TOP)/docs/conformance.md

clean:
	rm -rf $(BUILD)
	@$(MAKE) --no-print-directory -C $(TOP)/tests/guest clean O=$(GUEST_BUILD) 2>/dev/null || true

FORCE:
