/* SPDX-License-Identifier: Apache-2.0 */
/* A stand-in for libnvidia-ml.so.1 with the NVML entry points nccl-doctor uses and canned
 * answers: 2 H100s at the bus ids of topology/sysfs/healthy, 18 NVLinks each to an NVSwitch,
 * link 5 of GPU0 down. Signatures and struct layouts as in the NVML API reference. */
#include <stdio.h>
#include <string.h>

typedef struct nvmlDevice_st* nvmlDevice_t;
typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;
typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;

static const char* kBus[2] = {"00000000:03:00.0", "00000000:83:00.0"};
static nvmlDevice_t dev(unsigned i) { return (nvmlDevice_t)(unsigned long)(i + 1); }
static int idx(nvmlDevice_t d) { return (int)(unsigned long)d - 1; }

int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
const char* nvmlErrorString(int r) { return r ? "error" : "success"; }
int nvmlSystemGetDriverVersion(char* v, unsigned n) { snprintf(v, n, "570.124.06"); return 0; }
int nvmlDeviceGetCount_v2(unsigned* n) { *n = 2; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t* d) { if (i > 1) return 2; *d = dev(i); return 0; }
int nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t* p) {
  memset(p, 0, sizeof *p);
  snprintf(p->busId, sizeof p->busId, "%s", kBus[idx(d)]);
  return 0;
}
int nvmlDeviceGetName(nvmlDevice_t d, char* n, unsigned len) { (void)d; snprintf(n, len, "NVIDIA H100 80GB HBM3"); return 0; }
int nvmlDeviceGetUUID(nvmlDevice_t d, char* n, unsigned len) { snprintf(n, len, "GPU-fake-%d", idx(d)); return 0; }
int nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int* ma, int* mi) { (void)d; *ma = 9; *mi = 0; return 0; }
int nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* m) { (void)d; m->total = 85899345920ULL; m->free = m->used = 0; return 0; }
int nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t d, unsigned* v) { (void)d; *v = 1; return 0; }
int nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t d, unsigned* v) { (void)d; *v = 5; return 0; }
int nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t d, unsigned* v) { (void)d; *v = 16; return 0; }
int nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t d, unsigned* v) { (void)d; *v = 16; return 0; }
int nvmlDeviceGetNvLinkState(nvmlDevice_t d, unsigned l, int* on) {
  if (l >= 18) return 2; /* NVML_ERROR_INVALID_ARGUMENT past the last link */
  *on = !(idx(d) == 0 && l == 5);
  return 0;
}
int nvmlDeviceGetNvLinkVersion(nvmlDevice_t d, unsigned l, unsigned* v) { (void)d; (void)l; *v = 4; return 0; }
int nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t d, unsigned l, nvmlPciInfo_t* p) {
  (void)d;
  memset(p, 0, sizeof *p);
  snprintf(p->busId, sizeof p->busId, "00000000:%02X:00.0", 0xC1 + l % 4);
  return 0;
}
int nvmlDeviceGetNvLinkRemoteDeviceType(nvmlDevice_t d, unsigned l, int* t) { (void)d; (void)l; *t = 2; return 0; }
