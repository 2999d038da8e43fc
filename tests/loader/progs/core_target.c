// Not a program: its BTF is the "kernel" the CO-RE tests relocate core_reads.o against. Each
// type differs from core_reads.c's local view the way kernels drift: fields moved, grown or
// renamed, bitfields shifted, enumerators renumbered, types added and removed.
struct core_mm {
    unsigned long start_stack;
    unsigned long total_vm;
};

struct core_task {
    long state;
    unsigned int flags; // local: unsigned long
    int nice;           // local: short
    union {             // fields may move into anonymous members
        struct {
            int pid;
            int tgid;
        };
        long pid_tgid;
    };
    unsigned int unrelated : 5, prio : 7, policy : 3;
    struct core_mm* mm;
    char comm[24];
    int new_name;
};

enum core_state { CS_RUNNING = 10, CS_SLEEPING = 20, CS_STOPPED = 30 };

struct only_in_target {
    int x;
};

typedef struct core_mm core_mm_t;

struct core_task task;
enum core_state state;
struct only_in_target only;
core_mm_t mm;
