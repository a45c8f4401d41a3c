using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Every error found in one config, reported together so the user fixes them in one round. With one error the
/// exception carries that error's code and position; with several it is <see cref="ConfigErrorCodes.Several"/>
/// at the first error's position and its message lists each error as a diagnostic line.
/// </summary>
public sealed class ConfigValidationException : QuantBuildException
{
    /// <summary>Creates the exception from at least one error.</summary>
    public ConfigValidationException(IReadOnlyList<QuantBuildException> errors)
        : base(
            errors.Count == 1 ? errors[0].Code : ConfigErrorCodes.Several,
            Summarise(errors),
            // With several errors each line carries its own fix; a shared "Fix:" would be glued to the last one.
            errors.Count == 1 ? errors[0].Fix : null,
            errors[0].FilePath,
            errors[0].Line,
            errors[0].Column,
            errors.Count == 1 ? errors[0].InnerException : null)
    {
        Errors = errors;
    }

    /// <summary>The errors in the order they occur in the file.</summary>
    public IReadOnlyList<QuantBuildException> Errors { get; }

    private static string Summarise(IReadOnlyList<QuantBuildException> errors)
    {
        if (errors.Count == 0)
        {
            throw new ArgumentException("A validation exception needs at least one error.", nameof(errors));
        }

        if (errors.Count == 1)
        {
            return errors[0].Message;
        }

        // One canonical line per error, from column 1, so a terminal, an IDE or MSBuild reads each as a diagnostic.
        return $"{errors.Count} errors in {Path.GetFileName(errors[0].FilePath)}, each on its own line below:" + string.Concat(
            errors.Select(e => Environment.NewLine + e.ToDiagnosticString()));
    }
}
