namespace QuantBuild.Abstractions.Diagnostics;

/// <summary>
/// A user-facing failure with a stable <c>QBnnnn</c> code, a one-line cause, the fix, and where it happened.
/// Ranges: QB1xxx config and input files, QB2xxx plugins, QB3xxx calibration and quantization,
/// QB4xxx accuracy gate, QB5xxx packaging and MSBuild, QB6xxx runtime.
/// </summary>
public class QuantBuildException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The diagnostic code, for example <c>QB1101</c>.</param>
    /// <param name="message">One line saying what went wrong.</param>
    /// <param name="fix">One line saying what the user should do about it.</param>
    /// <param name="file">The file the failure is about, if any.</param>
    /// <param name="line">1-based line in <paramref name="file"/>, or 0 when unknown.</param>
    /// <param name="column">1-based column in <paramref name="file"/>, or 0 when unknown.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public QuantBuildException(string code, string message, string? fix = null, string? file = null, int line = 0, int column = 0, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Fix = fix;
        FilePath = file;
        Line = line;
        Column = column;
    }

    /// <summary>The stable diagnostic code, for example <c>QB1101</c>.</summary>
    public string Code { get; }

    /// <summary>What the user should do about it.</summary>
    public string? Fix { get; }

    /// <summary>The file the failure is about, if any.</summary>
    public string? FilePath { get; }

    /// <summary>1-based line in <see cref="FilePath"/>, or 0.</summary>
    public int Line { get; }

    /// <summary>1-based column in <see cref="FilePath"/>, or 0.</summary>
    public int Column { get; }

    /// <summary>
    /// The canonical one-line rendering, shaped like a compiler diagnostic so terminals and IDEs can jump to it:
    /// <c>file(line,column): error QB1101: message Fix: ...</c>.
    /// </summary>
    public string ToDiagnosticString()
    {
        string where = FilePath is null ? string.Empty
            : Line > 0 ? $"{FilePath}({Line},{Math.Max(Column, 1)}): "
            : $"{FilePath}: ";
        string fix = string.IsNullOrEmpty(Fix) ? string.Empty : $" Fix: {Fix}";
        return $"{where}error {Code}: {Message}{fix}";
    }
}
