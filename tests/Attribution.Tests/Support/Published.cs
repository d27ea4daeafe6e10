namespace Attribution.Tests.Support;

/// <summary>dist/attribution, the single file `bash scripts/setup.sh` publishes: what a user copies to a host.</summary>
public static class Published
{
    public static string Program
    {
        get
        {
            var program = Path.Combine(RepositoryRoot.Path, "dist", "attribution");
            if (File.Exists(program)) return program;
            throw new InvalidOperationException($"{program} is missing: run `bash scripts/setup.sh` first (it publishes the single file)");
        }
    }

    /// <summary>Runs dist/attribution as nobody:nogroup with no supplementary groups and a HOME that does not exist.</summary>
    public static Run.Result AsNobody(params string[] args) =>
        Run.Command(TimeSpan.FromSeconds(120), "setpriv",
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "env", "HOME=/nonexistent", Program, .. args]);
}
