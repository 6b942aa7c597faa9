// uapi constants (x86-64), exported under their Linux names.

export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
export const MFD_HUGETLB = 0x4;
export const MFD_NOEXEC_SEAL = 0x8;
export const MFD_EXEC = 0x10;
export const MFD_MF_KEEP_UE_MAPPED = 0x20;
export const MFD_HUGE_SHIFT = 26;
export const MFD_HUGE_MASK = 0x3f;
export const MFD_HUGE_2MB = 21 << MFD_HUGE_SHIFT;
export const MFD_HUGE_1GB = 30 << MFD_HUGE_SHIFT;

export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_HUGETLB = 0x40000;
export const MAP_HUGE_SHIFT = 26;
export const MAP_HUGE_2MB = 21 << MAP_HUGE_SHIFT;
export const MAP_HUGE_1GB = 30 << MAP_HUGE_SHIFT;

export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;

export const FALLOC_FL_KEEP_SIZE = 0x1;
export const FALLOC_FL_PUNCH_HOLE = 0x2;

export const SIGBUS = 7;
export const BUS_ADRERR = 2;
export const BUS_MCEERR_AR = 4;
export const BUS_MCEERR_AO = 5;
export const SI_KERNEL = 0x80;

export const EPERM = 1;
export const ESRCH = 3;
export const EIO = 5;
export const EBADF = 9;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EOPNOTSUPP = 95;
export const EHWPOISON = 133;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const HPAGE_2M_SHIFT = 21;
export const HPAGE_1G_SHIFT = 30;
