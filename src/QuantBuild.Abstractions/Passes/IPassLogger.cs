namespace QuantBuild.Abstractions.Passes;

/// <summary>The host's log, for a pass's messages; the host adds the target and pass names.</summary>
public interface IPassLogger
{
    /// <summary>Detail for <c>--verbose</c> runs.</summary>
    void Debug(string message);

    /// <summary>A normal progress message.</summary>
    void Information(string message);

    /// <summary>Something the user should know about that does not stop the pass.</summary>
    void Warning(string message);
}
