namespace Attribution.Tests.Support;

/// <summary>dist/attribution, the single file `bash scripts/setup.sh` publishes: what a user copies to a host.</summary>
public static class Published
{
    public static string Program
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, "Attribution.sln"))) continue;
                var program = Path.Combine(dir.FullName, "dist", "attribution");
                if (File.Exists(program)) return program;
                throw new InvalidOperationException($"{program} is missing: run `bash scripts/setup.sh` first (it publishes the single file)");
            }
            throw new InvalidOperationException("the repository root (Attribution.sln) was not found above the test assembly");
        }
    }

    /// <summary>Runs dist/attribution as nobody:nogroup with no supplementary groups and a HOME that does not exist.</summary>
    public static Run.Result AsNobody(params string[] args) =>
        Run.Command(TimeSpan.FromSeconds(120), "setpriv",
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "env", "HOME=/nonexistent", Program, .. args]);
}
