namespace Attribution.Tests.Integration;

/// <summary>Recordings capture on shared interfaces ("any", "lo"); running them one at a time keeps each test's traffic its own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RecordingCollection
{
    public const string Name = "recording";
}
