/** The dynamic-variables form, generated from an integration's JSON Schema by @rjsf (lazy-loaded). */
// Deep imports: @rjsf/core's index also exports a test registry that needs @rjsf/validator-ajv8,
// which this page does not use (see ../validator.ts).
import Form from '@rjsf/core/lib/components/Form.js';
import getDefaultRegistry from '@rjsf/core/lib/getDefaultRegistry.js';
import { getDefaultFormState, type ErrorSchema, type FieldErrorProps, type FieldTemplateProps, type IconButtonProps, type RJSFSchema, type RJSFValidationError, type UiSchema, type WidgetProps } from '@rjsf/utils';
import { forwardRef, useEffect, useImperativeHandle, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ErrorSchemaNode } from '../errors';
import { itemLabel, transformSchemaErrors } from '../schemaErrors';
import { draftOf, InterpretingValidator } from '../validator';
import { t } from '../messages';

/** The field's path as the error test ids spell it: `x.y`, `items.0.name`, or `root`. */
function pathKey(path: (string | number)[]): string {
  return path.length ? path.map(String).join('.') : 'root';
}

function FieldErrorTemplate({ errors = [], fieldPathId }: FieldErrorProps) {
  const shown = errors.filter(Boolean);
  if (shown.length === 0) return null;
  return (
    <div id={`${fieldPathId.$id}__error`} className="sy-field-error" data-testid={`field-error-${pathKey(fieldPathId.path)}`}>
      {shown.map((e, i) => (
        <p key={i}>{e}</p>
      ))}
    </div>
  );
}

function TextButton({ label, className, iconType: _t, icon: _i, uiSchema: _u, registry: _r, ...rest }: IconButtonProps & { label: string }) {
  return (
    <button type="button" className={`sy-button sy-button--small ${className ?? ''}`} aria-label={rest.title} {...rest}>
      {label}
    </button>
  );
}

const DefaultFieldTemplate = getDefaultRegistry().templates.FieldTemplate;

function FieldTemplate(props: FieldTemplateProps) {
  return <DefaultFieldTemplate {...props} label={itemLabel(props.label, props.id)} />;
}

const templates = {
  FieldTemplate,
  FieldErrorTemplate,
  ButtonTemplates: {
    AddButton: (p: IconButtonProps) => <TextButton {...p} title={p.title ?? 'Add item'} label={t('form.addItem')} />,
    RemoveButton: (p: IconButtonProps) => <TextButton {...p} label={t('form.removeItem')} />,
    MoveUpButton: (p: IconButtonProps) => <TextButton {...p} label="↑" />,
    MoveDownButton: (p: IconButtonProps) => <TextButton {...p} label="↓" />,
    CopyButton: (p: IconButtonProps) => <TextButton {...p} label="Copy" />,
  },
};

const uiSchema: UiSchema = { 'ui:submitButtonOptions': { norender: true } };

const DefaultSelect = getDefaultRegistry().widgets.SelectWidget;

/** A select that starts on a "Choose…" prompt when nothing is chosen and there is no default. */
function SelectWidget(props: WidgetProps) {
  return <DefaultSelect {...props} placeholder={props.placeholder || t('form.choose')} />;
}

const widgets = { SelectWidget };

/** A titled choice (`oneOf` of `const`) starts on the prompt, not on its first option. */
const defaultsBehaviour = { constAsDefaults: 'skipOneOf' } as const;

/** `enum` with `enumNames` (an older, widespread JSON Schema extension) as `oneOf` of
 * `const`+`title`, which the form shows as words; everything else as it is. */
export function titledEnums(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(titledEnums);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) out[k] = k === 'enum' || k === 'const' || k === 'default' || k === 'examples' ? v : titledEnums(v);
  const { enum: values, enumNames: names } = out;
  if (Array.isArray(values) && Array.isArray(names) && names.length === values.length && names.every((n) => typeof n === 'string')) {
    delete out.enum;
    delete out.enumNames;
    out.oneOf = values.map((v, i) => ({ const: v, title: names[i] }));
  }
  return out;
}

/** The schema without its `$schema` marker (the validator is told the draft instead), enum names
 * as titles. The server remains the authority. */
export function clientSchema(schema: Record<string, unknown>): RJSFSchema {
  const { $schema: _ignored, ...rest } = schema;
  return titledEnums(rest) as RJSFSchema;
}

export interface VariablesFormHandle {
  /** Validates (showing errors inline); true when valid. */
  validate: () => boolean;
}

export interface VariablesFormProps {
  schema: Record<string, unknown>;
  formData: Record<string, unknown>;
  onChange: (data: Record<string, unknown>, fieldId?: string) => void;
  onSubmit?: () => void;
  extraErrors?: ErrorSchemaNode | null;
  disabled?: boolean;
}

const VariablesForm = forwardRef<VariablesFormHandle, VariablesFormProps>(function VariablesForm(
  { schema, formData, onChange, onSubmit, extraErrors, disabled },
  ref,
) {
  const formRef = useRef<Form>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  // rjsf's own focusing picks the first <option> of a <select> (select.length is its option count),
  // so the field of the first error is found here.
  const focusError = (error: RJSFValidationError) => {
    const id = ['root', ...(error.property ?? '').split('.').filter(Boolean)].join('_');
    const box = boxRef.current;
    const el = box?.querySelector<HTMLElement>(`[id="${id.replace(/["\\]/g, '\\$&')}"]`) ?? box?.querySelector<HTMLElement>(`[id^="${id.replace(/["\\]/g, '\\$&')}_"]`);
    el?.focus();
  };
  const [attempted, setAttempted] = useState(false);
  const rjsfSchema = useMemo(() => clientSchema(schema), [schema]);
  const validator = useMemo(() => new InterpretingValidator(draftOf(schema)), [schema]);
  // The schema's defaults count as the user's values from the start (rjsf shows them but reports
  // them only on the first change), so they reach the review and the activation.
  useEffect(() => {
    const withDefaults = getDefaultFormState(validator, rjsfSchema, formData, rjsfSchema, false, defaultsBehaviour) as Record<string, unknown> | undefined;
    if (withDefaults && JSON.stringify(withDefaults) !== JSON.stringify(formData)) onChange(withDefaults);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rjsfSchema]);
  // rjsf marks no widget invalid: each field with an error shown is marked `aria-invalid` (its
  // error is already among its `aria-describedby`).
  useLayoutEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    for (const el of box.querySelectorAll<HTMLElement>('input[id], select[id], textarea[id]')) {
      const invalid = !!box.querySelector(`[id="${CSS.escape(el.id)}__error"]`);
      if (invalid) el.setAttribute('aria-invalid', 'true');
      else el.removeAttribute('aria-invalid');
    }
  });
  useImperativeHandle(ref, () => ({
    validate: () => {
      setAttempted(true);
      return formRef.current?.validateForm() ?? true;
    },
  }));
  return (
    <div className="sy-rjsf" data-testid="variables-form" ref={boxRef}>
      <Form
        ref={formRef}
        schema={rjsfSchema}
        uiSchema={uiSchema}
        formData={formData}
        validator={validator}
        templates={templates}
        extraErrors={(extraErrors ?? undefined) as ErrorSchema | undefined}
        widgets={widgets}
        experimental_defaultFormStateBehavior={defaultsBehaviour}
        transformErrors={(errors) => transformSchemaErrors(errors, rjsfSchema as Record<string, unknown>)}
        showErrorList={false}
        focusOnFirstError={focusError}
        noHtml5Validate
        liveValidate={attempted ? 'onChange' : undefined}
        disabled={disabled}
        onChange={(e, id) => onChange((e.formData ?? {}) as Record<string, unknown>, id)}
        onSubmit={() => onSubmit?.()}
        onError={() => setAttempted(true)}
      />
    </div>
  );
});

export default VariablesForm;
