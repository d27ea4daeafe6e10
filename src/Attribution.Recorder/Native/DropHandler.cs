using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

/// <summary>
/// A signal handler that gives up every capability of the thread it runs on: capset to nothing (effective, permitted,
/// inheritable), the ambient set cleared, no_new_privs set; then it counts itself done. It is machine code, not managed
/// code, because it runs on threads the .NET runtime made for itself (its synchronization manager, debugger, tiered
/// compiler), interrupted anywhere: only raw system calls are safe there, no allocation, no lock, no runtime. It acts
/// only on signals this process sent itself with tgkill (si_code SI_TKILL, si_pid its own; the kernel lets no other
/// process forge either), so a stray signal of that number from outside changes nothing.
/// Two pages: the code (made read and execute, never writable again) and its data (the capset header and empty sets,
/// the process id, the count), addressed relative to the instruction pointer. x86-64 only (the published build's
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
        nint pages = LibC.mmapAnonymous(0, 2 * Page, LibC.ProtReadWrite, LibC.MapPrivateAnonymous, -1, 0);
        if (pages == -1) return null;
        var code = Code();
        code.CopyTo(new Span<byte>((void*)pages, Page));
        var data = (byte*)pages + Page;
        *(LibC.CapHeader*)(data + HeaderAt) = new LibC.CapHeader { Version = LibC.LinuxCapabilityVersion3 }; // pid 0: the caller
        new Span<byte>(data + SetsAt, 2 * sizeof(LibC.CapData)).Clear(); // both halves of all three sets: nothing
        *(int*)(data + PidAt) = Environment.ProcessId;
        if (LibC.mprotect(pages, Page, LibC.ProtReadExec) != 0) return null; // W^X: the code is not writable once it may run
        return new DropHandler(pages, data);
    }

    /// <summary>
    /// The instructions (System V calling convention for a handler: rdi the signal, rsi the siginfo, rdx the context;
    /// every register the handler touches is restored by the kernel's sigreturn). Displacements are from the end of
    /// their instruction to the data page, which starts one page after the code.
    /// </summary>
    private static byte[] Code()
    {
        var c = new List<byte>();
        void Emit(params byte[] bytes) => c.AddRange(bytes);
        void Imm32(int value) => Emit(BitConverter.GetBytes(value));
        void RipTo(int dataOffset) => Imm32(Page + dataOffset - (c.Count + 4)); // disp32 is the instruction's last field
        int jumpOut1, jumpOut2;

        Emit(0x81, 0x7E, SiCodeAt); Imm32(SiTkill);     // cmp dword [rsi+8], SI_TKILL: sent with tgkill?
        Emit(0x75, 0); jumpOut1 = c.Count;               // jne out
        Emit(0x8B, 0x46, SiPidAt);                        // mov eax, [rsi+16]: the sender's process id
        Emit(0x3B, 0x05); RipTo(PidAt);                  // cmp eax, [this process's id]
        Emit(0x75, 0); jumpOut2 = c.Count;               // jne out
        Emit(0x48, 0x8D, 0x3D); RipTo(HeaderAt);         // lea rdi, [header]
        Emit(0x48, 0x8D, 0x35); RipTo(SetsAt);           // lea rsi, [empty sets]
        Emit(0xB8); Imm32(SysCapset);                    // mov eax, capset
        Emit(0x0F, 0x05);                                // syscall
        Emit(0xBF); Imm32(LibC.PrCapAmbient);            // mov edi, PR_CAP_AMBIENT
        Emit(0xBE); Imm32(LibC.PrCapAmbientClearAll);    // mov esi, PR_CAP_AMBIENT_CLEAR_ALL
        Emit(0x31, 0xD2);                                // xor edx, edx (arguments 3 to 5 must be 0)
        Emit(0x45, 0x31, 0xD2);                          // xor r10d, r10d
        Emit(0x45, 0x31, 0xC0);                          // xor r8d, r8d
        Emit(0xB8); Imm32(SysPrctl);                     // mov eax, prctl
        Emit(0x0F, 0x05);                                // syscall (keeps rdx, r10, r8)
        Emit(0xBF); Imm32(LibC.PrSetNoNewPrivs);         // mov edi, PR_SET_NO_NEW_PRIVS
        Emit(0xBE); Imm32(1);                            // mov esi, 1
        Emit(0xB8); Imm32(SysPrctl);                     // mov eax, prctl
        Emit(0x0F, 0x05);                                // syscall
        Emit(0xF0, 0xFF, 0x05); RipTo(DoneAt);           // lock inc dword [done]
        c[jumpOut1 - 1] = (byte)(c.Count - jumpOut1);    // out:
        c[jumpOut2 - 1] = (byte)(c.Count - jumpOut2);
        Emit(0xC3);                                      // ret
        return [.. c];
    }
}
