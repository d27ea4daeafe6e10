namespace Attribution.Tests.Support;

/// <summary>
/// A helper program in C (tests/Attribution.Tests/Programs, copied beside the test assembly), compiled by the test
/// with cc into a temporary directory, for what a managed test peer cannot do as a real program does (rename its
/// only thread, rewrite its argv). Removed with its directory on dispose.
/// </summary>
public sealed class NativeProgram : IDisposable
{
    private readonly string _dir;

    public string Path { get; }

    private NativeProgram(string dir, string path) => (_dir, Path) = (dir, path);

    /// <summary>Compiles Programs/<paramref name="name"/>.c; the executable is called <paramref name="name"/>, which is its comm at exec.</summary>
    public static NativeProgram Build(string name)
    {
        var cc = RequiredProgram.OnPath("cc", "clang");
        var source = System.IO.Path.Combine(AppContext.BaseDirectory, "Programs", name + ".c");
        var dir = Directory.CreateTempSubdirectory("attr-program-").FullName;
        var path = System.IO.Path.Combine(dir, name);
        var r = Run.Command(TimeSpan.FromSeconds(60), cc, "-O2", "-Wall", "-o", path, source);
        if (r.ExitCode != 0)
        {
            Directory.Delete(dir, recursive: true);
            throw new InvalidOperationException($"cc {source} failed ({r.ExitCode}): {r.Stderr}");
        }
        return new NativeProgram(dir, path);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
