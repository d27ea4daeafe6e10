namespace Attribution.Analyzer.Errors;

/// <summary>Filter and Usage: the command line must change (a usage error); the others are about the files.</summary>
public enum AnalyzeFailure { InputMissing, InputUnreadable, Output, Filter, Usage }

/// <summary>A failure the user must act on: what, and where.</summary>
public sealed class AnalyzeError(AnalyzeFailure kind, string message) : Exception(message)
{
    public AnalyzeFailure Kind { get; } = kind;
}
