// uapi constants (x86-64), exported under their Linux names.

/** memfd_create(): close the fd on exec. */
export const MFD_CLOEXEC = 0x1;
/** memfd_create(): allow file seals. */
export const MFD_ALLOW_SEALING = 0x2;
/** memfd_create(): back the file with HugeTLB pages (the only memfds simulated). */
export const MFD_HUGETLB = 0x4;
/** memfd_create(): not executable, sealed so. */
export const MFD_NOEXEC_SEAL = 0x8;
/** memfd_create(): executable. */
export const MFD_EXEC = 0x10;
/** memfd_create(): keep a hugepage with a UE mapped; only its poisoned 4 KiB pages are lost (the proposed series). */
export const MFD_MF_KEEP_UE_MAPPED = 0x20;
/** memfd_create(): where the hugepage size (its log2) sits in the flags. */
export const MFD_HUGE_SHIFT = 26;
/** memfd_create(): the mask of the hugepage-size field, after the shift. */
export const MFD_HUGE_MASK = 0x3f;
/** memfd_create(): 2 MiB hugepages. */
export const MFD_HUGE_2MB = 21 << MFD_HUGE_SHIFT;
/** memfd_create(): 1 GiB hugepages. */
export const MFD_HUGE_1GB = 30 << MFD_HUGE_SHIFT;

/** mmap(): no access. */
export const PROT_NONE = 0x0;
/** mmap(): readable. */
export const PROT_READ = 0x1;
/** mmap(): writable. */
export const PROT_WRITE = 0x2;

/** mmap(): a shared mapping. */
export const MAP_SHARED = 0x01;
/** mmap(): a private (copy-on-write) mapping. */
export const MAP_PRIVATE = 0x02;
/** mmap(): map at exactly the address given. */
export const MAP_FIXED = 0x10;
/** mmap(): memory not backed by a file (THP in the simulator). */
export const MAP_ANONYMOUS = 0x20;
/** mmap(): anonymous HugeTLB memory. */
export const MAP_HUGETLB = 0x40000;
/** mmap(): where the hugepage size (its log2) sits in the flags. */
export const MAP_HUGE_SHIFT = 26;
/** mmap(): 2 MiB hugepages. */
export const MAP_HUGE_2MB = 21 << MAP_HUGE_SHIFT;
/** mmap(): 1 GiB hugepages. */
export const MAP_HUGE_1GB = 30 << MAP_HUGE_SHIFT;

/** madvise(): poison the raw pages of a range, as a UE would (needs CAP_SYS_ADMIN). */
export const MADV_HWPOISON = 100;
/** madvise(): soft-offline a range (not simulated: EOPNOTSUPP). */
export const MADV_SOFT_OFFLINE = 101;

/** fallocate(): do not change the file size. */
export const FALLOC_FL_KEEP_SIZE = 0x1;
/** fallocate(): free the range (with FALLOC_FL_KEEP_SIZE). */
export const FALLOC_FL_PUNCH_HOLE = 0x2;

/** The signal a memory failure delivers. */
export const SIGBUS = 7;
/** SIGBUS si_code: access beyond the mapped file. */
export const BUS_ADRERR = 2;
/** SIGBUS si_code: a machine check the access itself consumed (action required). */
export const BUS_MCEERR_AR = 4;
/** SIGBUS si_code: a machine check found elsewhere (action optional, early kill). */
export const BUS_MCEERR_AO = 5;
/** SIGBUS si_code: sent by the kernel without an address. */
export const SI_KERNEL = 0x80;

/** errno: operation not permitted. */
export const EPERM = 1;
/** errno: no such process. */
export const ESRCH = 3;
/** errno: I/O error. */
export const EIO = 5;
/** errno: bad file descriptor. */
export const EBADF = 9;
/** errno: out of memory. */
export const ENOMEM = 12;
/** errno: bad address. */
export const EFAULT = 14;
/** errno: resource busy. */
export const EBUSY = 16;
/** errno: already exists. */
export const EEXIST = 17;
/** errno: no such device. */
export const ENODEV = 19;
/** errno: invalid argument. */
export const EINVAL = 22;
/** errno: no space left (no free hugepages). */
export const ENOSPC = 28;
/** errno: operation not supported. */
export const EOPNOTSUPP = 95;
/** errno: memory page has a hardware error. */
export const EHWPOISON = 133;

/** log2 of the base page size. */
export const PAGE_SHIFT = 12;
/** The base (raw) page size: 4 KiB. */
export const PAGE_SIZE = 4096;
/** log2 of a 2 MiB hugepage. */
export const HPAGE_2M_SHIFT = 21;
/** log2 of a 1 GiB hugepage. */
export const HPAGE_1G_SHIFT = 30;
