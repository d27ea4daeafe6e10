namespace Attribution.Recorder;

/// <summary>
/// The first write failure of a recording once it runs. A failed write (disk full) ends the recording but not its
/// shutdown: every thread is still stopped and every file closed, keeping what was written.
/// </summary>
internal sealed class FirstWriteError
{
    public string? Message { get; private set; }

    public void Attempt(Action action)
    {
        try { action(); }
        catch (IOException e) { Message ??= $"cannot write the output: {e.Message}"; }
    }
}
