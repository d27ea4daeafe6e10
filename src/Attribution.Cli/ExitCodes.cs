namespace Attribution.Cli;

/// <summary>Every exit code the program returns, decided here and documented in README.md.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The command line could not be parsed or an option value is out of range.</summary>
    public const int Usage = 1;
    /// <summary>A file could not be read or written (missing, corrupt, disk full).</summary>
    public const int InputOutput = 2;
    /// <summary>Not allowed to record: missing root or a capability.</summary>
    public const int Privileges = 3;
    /// <summary>The capture could not start (no such interface, bad filter, libpcap missing).</summary>
    public const int Capture = 4;
    /// <summary>The recording started but ended early on an error; what was written is kept and readable.</summary>
    public const int EndedEarly = 5;
    /// <summary>The analysis is written, but its input was damaged (a truncated capture, skipped snapshot records): results cover what was readable.</summary>
    public const int DamagedInput = 6;
}
