namespace Attribution.Tests.Support;

/// <summary>Paths of the checked-in fixtures, copied next to the test assembly at build time.</summary>
public static class Fixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    public static byte[] Bytes(params string[] parts) => File.ReadAllBytes(Path(parts));
}
