using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using Microsoft.Win32.SafeHandles;

namespace Attribution.Cli;

/// <summary>
/// Loads SQLite's native library from inside the single-file program, without extracting it anywhere.
/// The .NET host would unpack native libraries into $HOME/.net, which fails for a user with no writable
/// HOME (nobody, a service account: exit 159 before Main). dist/attribution carries libe_sqlite3.so as a
/// resource instead (Attribution.Cli.csproj); when the runtime cannot find the library on its own, it is
/// copied into an anonymous memory file (memfd_create) and loaded from there: no disk, no HOME, any user.
/// Where memfd_create is missing (kernel before 3.17), a private temporary file is used and deleted at once.
/// Loading from memory costs no more than loading an extracted copy (docs/PERFORMANCE.md, Start-up).
/// In a normal build (tests, `dotnet run`) the library sits beside the assembly and this is never called.
/// </summary>
internal static class NativeSqlite
{
    private const string Library = "e_sqlite3", Resource = "native/libe_sqlite3.so";
    private static readonly Lock Gate = new();
    private static IntPtr _handle;

    public static void LoadFromResourceWhenMissing() =>
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += (_, name) => name is Library or "lib" + Library ? Load() : IntPtr.Zero;

    private static IntPtr Load()
    {
        lock (Gate)
        {
            if (_handle != IntPtr.Zero) return _handle;
            using var resource = Assembly.GetExecutingAssembly().GetManifestResourceStream(Resource);
            if (resource is null) return IntPtr.Zero;
            _handle = FromMemoryFile(resource) ?? FromTemporaryFile(resource);
            return _handle;
        }
    }

    private static IntPtr? FromMemoryFile(Stream resource)
    {
        int fd;
        try { fd = MemfdCreate("libe_sqlite3.so", 1 /* MFD_CLOEXEC */); }
        catch (EntryPointNotFoundException) { return null; }
        if (fd < 0) return null;
        using var file = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite);
        resource.CopyTo(file);
        file.Flush();
        // The mapping dlopen makes outlives the descriptor, which closes here.
        return NativeLibrary.TryLoad($"/proc/self/fd/{fd}", out var handle) ? handle : null;
    }

    private static IntPtr FromTemporaryFile(Stream resource)
    {
        var dir = Directory.CreateTempSubdirectory("attribution-");
        try
        {
            var path = Path.Combine(dir.FullName, "libe_sqlite3.so");
            using (var file = File.Create(path)) resource.CopyTo(file);
            return NativeLibrary.Load(path);
        }
        finally { dir.Delete(recursive: true); }
    }

    [DllImport("libc", EntryPoint = "memfd_create", SetLastError = true)]
    private static extern int MemfdCreate(string name, uint flags);
}
