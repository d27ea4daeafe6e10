using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

/// <summary>
/// A signal handler that gives up every capability of the thread it runs on: capset to nothing (effective, permitted,
/// inheritable), the ambient set cleared, no_new_privs set; then it counts itself done. It is machine code, not managed
/// code, because it runs on threads the .NET runtime made for itself (its synchronization manager, debugger, tiered
/// compiler), interrupted anywhere: only raw system calls are safe there, no allocation, no lock, no runtime. It acts
/// only on signals this process sent itself with tgkill (si_code SI_TKILL, si_pid its own; the kernel lets no other
/// process forge either), so a stray signal of that number from outside changes nothing.
/// The code is never writable where it runs: written to a memfd and mapped from it read and execute, which a service's
/// MemoryDenyWriteExecute= (seccomp or PR_SET_MDWE) still allows; else, where memfds may not be executed
/// (vm.memfd_noexec), anonymous memory made read and execute once written. Its data (the capset header and empty sets,
/// the process id, the count) is a page of its own, whose address the code holds. x86-64 only (the published build's
/// architecture): elsewhere <see cref="TryCreate"/> returns null. Never freed: a signal still pending finds it in place.
/// </summary>
internal sealed unsafe class DropHandler
{
    private const int Page = 4096;
    private const int HeaderAt = 0, SetsAt = 8, PidAt = 32, DoneAt = 36; // offsets in the data page
    private const int SiCodeAt = 8, SiPidAt = 16, SiTkill = -6; // siginfo_t on 64-bit Linux
    private const int SysCapset = 126, SysPrctl = 157; // x86-64 system call numbers

    /// <summary>The handler's address, for sigaction with SA_SIGINFO.</summary>
    public nint Entry { get; }
    private readonly int* _done;

    private DropHandler(nint code, byte* data)
    {
        Entry = code;
        _done = (int*)(data + DoneAt);
    }

    /// <summary>How many times the handler has run to its end (each a thread that gave up everything).</summary>
    public int Done => Volatile.Read(ref *_done);

    /// <summary>The handler, ready; null on another architecture or where the system refuses executable memory.</summary>
    public static DropHandler? TryCreate()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        var data = (byte*)LibC.mmap(0, Page, LibC.ProtReadWrite, LibC.MapPrivateAnonymous, -1, 0);
        if (data == (byte*)-1) return null;
        *(LibC.CapHeader*)(data + HeaderAt) = new LibC.CapHeader { Version = LibC.LinuxCapabilityVersion3 }; // pid 0: the caller
        new Span<byte>(data + SetsAt, 2 * sizeof(LibC.CapData)).Clear(); // both halves of all three sets: nothing
        *(int*)(data + PidAt) = Environment.ProcessId;
        var code = Code((nint)data);
        nint entry = FromMemfd(code);
        if (entry == -1) entry = FromAnonymous(code);
        return entry == -1 ? null : new DropHandler(entry, data);
    }

    private static nint FromMemfd(byte[] code)
    {
        int fd = LibC.memfd_create("attribution-drop", LibC.MfdCloexec);
        if (fd < 0) return -1;
        nint mapped = -1;
        fixed (byte* c = code)
            if (LibC.write(fd, c, code.Length) == code.Length)
                mapped = LibC.mmap(0, Page, LibC.ProtReadExec, LibC.MapPrivate, fd, 0);
        LibC.close(fd);
        return mapped;
    }

    private static nint FromAnonymous(byte[] code)
    {
        nint page = LibC.mmap(0, Page, LibC.ProtReadWrite, LibC.MapPrivateAnonymous, -1, 0);
        if (page == -1) return -1;
        code.CopyTo(new Span<byte>((void*)page, Page));
        if (LibC.mprotect(page, Page, LibC.ProtReadExec) == 0) return page; // not writable once it may run
        Perf.munmap(page, Page);
        return -1;
    }

    /// <summary>
    /// The instructions (System V calling convention for a handler: rdi the signal, rsi the siginfo, rdx the context;
    /// every register it touches is restored by the kernel's sigreturn; r9 holds the data page throughout, as the system
    /// calls' arguments are rdi, rsi, rdx, r10, r8 and a syscall overwrites only rax, rcx and r11).
    /// </summary>
    private static byte[] Code(nint data)
    {
        var c = new List<byte>();
        void Emit(params byte[] bytes) => c.AddRange(bytes);
        void Imm32(int value) => Emit(BitConverter.GetBytes(value));
        int jumpOut1, jumpOut2;

        Emit(0x81, 0x7E, SiCodeAt); Imm32(SiTkill);     // cmp dword [rsi+8], SI_TKILL: sent with tgkill?
        Emit(0x75, 0); jumpOut1 = c.Count;               // jne out
        Emit(0x49, 0xB9); Emit(BitConverter.GetBytes((long)data)); // mov r9, data page
        Emit(0x8B, 0x46, SiPidAt);                       // mov eax, [rsi+16]: the sender's process id
        Emit(0x41, 0x3B, 0x41, PidAt);                   // cmp eax, [r9+32]: this process's id
        Emit(0x75, 0); jumpOut2 = c.Count;               // jne out
        Emit(0x4C, 0x89, 0xCF);                          // mov rdi, r9: the header
        Emit(0x49, 0x8D, 0x71, SetsAt);                  // lea rsi, [r9+8]: the empty sets
        Emit(0xB8); Imm32(SysCapset);                    // mov eax, capset
        Emit(0x0F, 0x05);                                // syscall
        Emit(0xBF); Imm32(LibC.PrCapAmbient);            // mov edi, PR_CAP_AMBIENT
        Emit(0xBE); Imm32(LibC.PrCapAmbientClearAll);    // mov esi, PR_CAP_AMBIENT_CLEAR_ALL
        Emit(0x31, 0xD2);                                // xor edx, edx (arguments 3 to 5 must be 0)
        Emit(0x45, 0x31, 0xD2);                          // xor r10d, r10d
        Emit(0x45, 0x31, 0xC0);                          // xor r8d, r8d
        Emit(0xB8); Imm32(SysPrctl);                     // mov eax, prctl
        Emit(0x0F, 0x05);                                // syscall
        Emit(0xBF); Imm32(LibC.PrSetNoNewPrivs);         // mov edi, PR_SET_NO_NEW_PRIVS
        Emit(0xBE); Imm32(1);                            // mov esi, 1
        Emit(0xB8); Imm32(SysPrctl);                     // mov eax, prctl
        Emit(0x0F, 0x05);                                // syscall
        Emit(0xF0, 0x41, 0xFF, 0x41, DoneAt);            // lock inc dword [r9+36]: done
        c[jumpOut1 - 1] = (byte)(c.Count - jumpOut1);    // out:
        c[jumpOut2 - 1] = (byte)(c.Count - jumpOut2);
        Emit(0xC3);                                      // ret
        return [.. c];
    }
}
