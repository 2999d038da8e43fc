// FNV-1a, 64-bit, over the memory the program is given (r1 = its address, r2 = its length):
// a first program that loops, reads memory and returns a value. The loop bound keeps it
// verifiable once the verifier arrives.
unsigned long long fnv1a(const unsigned char *data, unsigned long long len)
{
    unsigned long long hash = 0xcbf29ce484222325ULL;

    for (unsigned long long i = 0; i < len && i < 4096; i++) {
        hash ^= data[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}
