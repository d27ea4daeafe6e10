namespace Attribution.Tests.Support;

/// <summary>
/// The real programs the end-to-end tests run (PostgreSQL, nginx, ab, a C compiler). One that is missing fails the
/// test with what to install, never skips it: scripts/setup.sh installs them all.
/// </summary>
public static class RequiredProgram
{
    /// <summary>The full path of <paramref name="name"/> on PATH; fails naming the Debian package that has it.</summary>
    public static string OnPath(string name, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        foreach (var dir in new[] { "/usr/sbin", "/sbin" }) // root's tools, when PATH lacks them
            if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        throw Missing(name, package);
    }

    /// <summary>PostgreSQL's server programs (postgres, initdb, pgbench) are not on PATH on Debian: the newest version's.</summary>
    public static string PostgresBin(string name)
    {
        const string Root = "/usr/lib/postgresql";
        var dirs = Directory.Exists(Root) ? Directory.GetDirectories(Root) : [];
        var newest = dirs.Where(d => int.TryParse(Path.GetFileName(d), out _)).OrderByDescending(d => int.Parse(Path.GetFileName(d)))
            .Select(d => Path.Combine(d, "bin", name)).FirstOrDefault(File.Exists);
        return newest ?? throw Missing(name, "postgresql");
    }

    private static Exception Missing(string name, string package) =>
        new InvalidOperationException($"{name} is not installed: this test runs the real program; run scripts/setup.sh (it installs the Debian package {package})");
}
