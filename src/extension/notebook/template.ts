// Notebooks users get from the commands: "Analyze Model..." (the standard steps for a model and
// data) and "New Analysis Notebook" (the same on built-in Wine with a model made in cell 0).
import * as vscode from 'vscode';
import { nbToData } from './serializer';
import { analysisCells, type AnalysisNotebookOptions } from './steps';

export function analysisNotebook(o: AnalysisNotebookOptions): vscode.NotebookData {
  return nbToData(analysisCells(o));
}
