namespace Attribution.Recorder;

public enum RecordFailure
{
    Privileges,
    Capture,
    Output,
}

/// <summary>A failure the user must act on, with a message that says what and where; never a stack trace.</summary>
public sealed class RecordError(RecordFailure kind, string message) : Exception(message)
{
    public RecordFailure Kind { get; } = kind;
}
