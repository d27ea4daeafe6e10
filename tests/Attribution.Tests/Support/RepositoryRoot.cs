namespace Attribution.Tests.Support;

/// <summary>The checkout the tests run from: the folder above the test assembly that holds Attribution.sln.</summary>
public static class RepositoryRoot
{
    public static string Path
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "Attribution.sln"))) return dir.FullName;
            throw new InvalidOperationException("the repository root (Attribution.sln) was not found above the test assembly");
        }
    }
}
